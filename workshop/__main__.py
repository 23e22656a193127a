"""`python -m workshop`: the workshop CLI (see workshop/cli/)."""

import sys

from workshop.cli import main

sys.exit(main())
