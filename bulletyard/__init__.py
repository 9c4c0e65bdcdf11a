"""bulletyard's composition root: the command line, config files and the choice of adapters."""

__version__ = "0.1.0"
