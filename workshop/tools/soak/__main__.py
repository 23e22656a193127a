"""`python -m workshop.tools.soak` (what `make soak` runs)."""

from workshop.tools.soak.run import main

if __name__ == "__main__":
    raise SystemExit(main())
