"""Courtroom-grade secure video hearings."""

__version__ = "0.1.0"
