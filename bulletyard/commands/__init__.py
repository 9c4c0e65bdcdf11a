"""Subcommands of the bulletyard CLI, one module each."""
