"""The lab runner: `make lab-N` and friends.

Each lab lives in `workshop/lab-N-<topic>/`: a README, the one file the
learner edits (`handler.py`, committed as the naive starter), a pristine
`starter/`, a `solution/`, `lab.py` (goal, stages, the payload of its live
run) and `checks/` (pytest, one `test_stage_<n>_*.py` per stage). Which labs
there are, with their titles and services, is `manifest.py`: a folder it does
not name is not a lab.
"""
