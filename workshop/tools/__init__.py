"""What the Makefile runs beside the stack: the demo, start-up and memory figures, the benchmarks,
repeated test runs, and the ingest traffic generator."""
