# Powertools for AWS Lambda (Python) on Lambda durable functions: workshop tasks.
# `make` alone lists the targets. Every target creates the virtual environments it needs.
PYTHON ?= python3
VENV := .venv
EMU_VENV := .venv-emulator
PY := $(VENV)/bin/python
WORKSHOP := $(PY) -m workshop

.DEFAULT_GOAL := help
.PHONY: help env up down status logs demo test test-unit test-live clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

env: $(VENV)/.installed $(EMU_VENV)/.installed ## create both virtual environments (pinned)

$(VENV)/.installed: requirements/workshop.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else "Python 3.11 to 3.13 is needed; this is " + sys.version.split()[0] + ". Set PYTHON=python3.12, for example.")'
	@echo "creating $(VENV) (workshop, Powertools, durable SDK and its local runner)..."
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/workshop.txt
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(EMU_VENV)/.installed: requirements/emulator.txt
	@echo "creating $(EMU_VENV) (MiniStack, the AWS emulator; its botocore pin clashes with the durable SDK's)..."
	@$(PYTHON) -m venv $(EMU_VENV)
	@$(EMU_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/emulator.txt
	@touch $@
