"""`python -m workshop`: the workshop CLI (see workshop/cli.py)."""

import sys

from workshop.cli import main

sys.exit(main())
