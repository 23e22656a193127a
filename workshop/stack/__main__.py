"""`python -m workshop.stack up|down|status|logs|run-service|provision` (what the Makefile and compose run)."""

import sys

from workshop.stack.processes import main

sys.exit(main())
