"""Platform adapters. Each turns platform events into ``Incoming`` values and sends ``Outgoing`` ones."""
