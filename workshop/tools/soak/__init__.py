"""`make soak`: the stack under load and faults for a long run, with nothing lost, duplicated or stuck.

On a private stack (free ports, its own state folder, stopped by pid):
ingest (SQS -> durable `ingest`, duplicates and malformed messages, a chaos
loop killing workers and restarting the host and the runner), then the
figures and invariants as a table and in docs/soak.json. SOAK=short is the
profile CI runs. Not part of `make test`: a soak measures, it is not a unit.
"""
