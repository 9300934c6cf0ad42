"""Supervision: alert rules and compliance figures over the event log."""
