"""Composition code: runners and simulation set-up (may import every package)."""
