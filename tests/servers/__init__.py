"""Real servers started by the tests (not fakes): Synapse."""
