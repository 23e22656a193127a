"""`python -m workshop.tools.bench` (what `make bench` runs): the package's command is run.main."""

from workshop.tools.bench.run import main

if __name__ == "__main__":
    raise SystemExit(main())
