"""Delivery: every message pocnet sends goes through here (see service.py)."""
