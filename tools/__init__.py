"""Maintenance scripts (not part of the running bot)."""
