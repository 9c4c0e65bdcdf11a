"""``python -m bulletyard`` runs the command line."""

import sys

from bulletyard.cli import main

sys.exit(main())
