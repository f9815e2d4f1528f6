"""Fault tests: the real services stopped, restarted or crashed while the app is serving."""
