"""Capture: the hooks that see each phase, the per-request recorder, and the options."""
