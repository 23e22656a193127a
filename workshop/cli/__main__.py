"""`python -m workshop.cli`: the same as `python -m workshop` (cli.py ran itself this way before it became a package)."""

import sys

from workshop.cli import main

sys.exit(main())
