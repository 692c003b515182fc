"""Reminders before reporting deadlines and meetings (APScheduler, rebuilt from our own tables at start).

Not built yet: see the project's issues. The package exists because the layout is fixed."""
