"""AWS's durable runner (dex-local-runner) as the stack runs it: our launcher (launcher.py), recovery of
incomplete executions after a restart (recovery.py), and a faster clock for tests and demos (timescale.py)."""
