# Powertools for AWS Lambda (Python) on Lambda durable functions: workshop tasks.
# `make` alone lists the targets. Every target creates the virtual environments it needs.
# The Python the environments are built with: PYTHON when set, else python3 when supported,
# else the newest supported python3.X on the PATH (scripts/pick-python holds the list).
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell scripts/pick-python)
endif
VENV := .venv
EMU_VENV := .venv-emulator
PY := $(VENV)/bin/python
WORKSHOP := $(PY) -m workshop
# SAM's translator (SAM -> CloudFormation for the provisioner) pins a pydantic that clashes with the durable SDK's
TRANSLATOR_VENV := .venv-samtranslator
ENV_STAMPS := $(VENV)/.installed $(EMU_VENV)/.installed $(TRANSLATOR_VENV)/.installed
ifdef WORKSHOP_CONTAINER
# in the compose stack's `workshop` container the image already holds the pinned packages
PY := python
ENV_STAMPS :=
endif
# AWS SAM CLI and cfn-lint, each in an environment of its own (SAM pins a boto3 that clashes with the durable SDK's)
SAM_VENV := .venv-sam
CFNLINT_VENV := .venv-cfnlint
SAM := $(SAM_VENV)/bin/sam
# AWS CLI v1 for the test that drives the host with it (tests/integration/test_awscli_live.py); the test builds it too when missing
AWSCLI_VENV := .venv-awscli
# validate runs offline and without an account: no credentials, a dummy region, no telemetry
OFFLINE_AWS := env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
	SAM_CLI_TELEMETRY=0

.DEFAULT_GOAL := help
.PHONY: help doctor wheelhouse env up down status logs demo explorer screenshots test test-unit clean measure bench docs-figures soak repeat progress next watch validate test-compose test-devcontainer deploy destroy

# Each target's `## ` text, with @LABS@ replaced by the lab numbers from workshop/labs/manifest.py,
# the one list of the labs (stdlib only: it runs with $(PYTHON) before any environment exists).
help: ## list the targets
	@awk -v labs="$$($(PYTHON) -m workshop.labs.manifest range || echo N)" 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {gsub("%", "N", $$1); gsub("@LABS@", labs, $$2); printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

doctor: ## the day before a session: Python, make, ports, loopback, disk, packages; each line ✓ or ✗ with its fix
	@python3 scripts/doctor.py

# PLATFORMS (macos-arm64 macos-x86_64 linux-x86_64 linux-aarch64) and PYTHONS (3.11 ...): default, all of them
wheelhouse: ## wheels of every pin into ./wheelhouse for a mixed room (PLATFORMS=, PYTHONS=): `make env` offline
	@PYTHON=$(PYTHON) PLATFORMS="$(PLATFORMS)" PYTHONS="$(PYTHONS)" scripts/make-wheelhouse

env: $(ENV_STAMPS) ## create the virtual environments (pinned; with uv when it can be had, else pip: scripts/make-venv)

$(VENV)/.installed: requirements/workshop.txt pyproject.toml
	@scripts/pick-python --check $(PYTHON)
	@echo "creating $(VENV) (workshop, Powertools, durable SDK and its local runner)..."
	@PYTHON=$(PYTHON) scripts/make-venv $(VENV) requirements/workshop.txt .
	@touch $@

$(TRANSLATOR_VENV)/.installed: requirements/sam-translator.txt
	@echo "creating $(TRANSLATOR_VENV) (SAM's translator: templates become CloudFormation as sam deploy reads them)..."
	@PYTHON=$(PYTHON) scripts/make-venv $(TRANSLATOR_VENV) requirements/sam-translator.txt
	@touch $@

$(EMU_VENV)/.installed: requirements/emulator.txt
	@echo "creating $(EMU_VENV) (MiniStack, the AWS emulator; its botocore pin clashes with the durable SDK's)..."
	@PYTHON=$(PYTHON) scripts/make-venv $(EMU_VENV) requirements/emulator.txt
	@touch $@

up: env ## start the local stack in the background (emulator :4566, runner :9014, function host :3001, explorer :3002)
	@$(PY) -m workshop.stack up

down: ## stop the local stack (state is kept in .workshop/)
	@if command -v $(PY) >/dev/null 2>&1; then $(PY) -m workshop.stack down; else echo "nothing to stop: no environment yet"; fi

status: env ## show each service of the stack: pid, port, health, memory
	@$(PY) -m workshop.stack status

logs: env ## show the last lines of every service's and function's log
	@$(PY) -m workshop.stack logs

demo: env ## the main job: stack up, the order saga's happy and compensating paths, both timelines
	@$(PY) -m workshop.tools.demo

explorer: env ## the Durable Explorer's URL (executions, replay grid, callbacks, labs), opened in a browser if there is one
	@$(PY) -m workshop.explorer

# Playwright for the browser tests and the screenshots, added to .venv (not to the Docker image: see the file)
BROWSER_STAMP := $(VENV)/.browser-tests
ifdef WORKSHOP_CONTAINER
BROWSER_STAMP :=
endif
$(VENV)/.browser-tests: $(VENV)/.installed requirements/browser-tests.txt
	@echo "adding Playwright to $(VENV) (the explorer's browser tests; the browser is Debian's chromium)..."
	@PYTHON=$(PYTHON) scripts/make-venv --add $(VENV) requirements/browser-tests.txt
	@touch $@

screenshots: env $(BROWSER_STAMP) ## docs/explorer-grid.png: the replay grid of the saga's compensating path, on a private stack (needs chromium)
	@$(PY) -m workshop.tools.screenshots

# Three pytest processes, each test file in one of them (--dist loadfile keeps a file's
# module fixtures together) and each process with its own private stack on free ports:
# most live tests wait on durable timers, not on the CPU, so three overlap well on two cores.
TEST_PROCESSES ?= 3
test: env validate $(AWSCLI_VENV)/.installed $(BROWSER_STAMP) ## run every test: the template's lint, unit tests, then live tests on private stacks (free ports)
	@$(PY) -m pytest -q -n $(TEST_PROCESSES) --dist loadfile tests

test-unit: env ## unit tests only (no stack)
	@$(PY) -m pytest -q tests/unit

clean: down ## remove the stack's state and the virtual environments
	rm -rf .workshop $(VENV) $(EMU_VENV) $(TRANSLATOR_VENV) $(SAM_VENV) $(CFNLINT_VENV) $(AWSCLI_VENV) .venv-uv .aws-sam

measure: env ## print start-up time and idle memory of a private stack (no assertions)
	@$(PY) -m workshop.tools.measure

bench: env ## benchmarks on a private stack (~4 min): table in docs/BENCHMARKS.md and the README, figures in docs/benchmarks.json
	@PYTHON=$(PYTHON) $(PY) -m workshop.tools.bench

docs-figures: env ## rewrite the docs' measured figures (INSTRUCTOR.md's marked blocks) from docs/benchmarks.json; make bench does it too
	@$(PY) -m workshop.tools.bench.docs_figures

soak: env ## load, chaos and invariants on a private stack (SOAK=short: CI's ~4 min profile): a table, docs/soak.json
	@$(PY) -m workshop.tools.soak --profile $(or $(SOAK),full)

repeat: env ## live tests (TEST=...) RUNS times in a row (default: ingest reliability, 20); LOAD=1 keeps every core busy
	@$(PY) -m workshop.tools.repeat --runs $(or $(RUNS),20) $(if $(filter 1,$(LOAD)),--load) $(TEST)

lab-%-hint: env ## a hint for lab N's first failing stage, one level per call: direction, API, code (LEVEL=3)
	@$(PY) -m workshop.labs hint $* $(if $(LEVEL),--level '$(LEVEL)')

lab-%-solution: env ## the diff from your handler.py to lab N's solution
	@$(PY) -m workshop.labs solution $*

lab-%-reset: env ## restore lab N's starter (your file is kept as handler.py.bak-<time>)
	@$(PY) -m workshop.labs reset $*

lab-%-watch: env ## run lab N again each time you save its handler.py (Ctrl-C stops)
	@$(PY) -m workshop.labs watch $*

# LAB_TARGET=solution (or starter) runs that folder's handler instead of yours, as the lab READMEs say;
# VERBOSE=1 adds the execution's whole timeline and the lab's full signal to the verdict
lab-%: env ## run lab N (@LABS@): its goal, a live run, what to look at, every stage's check
	@$(PY) -m workshop.labs run $*

progress: env ## every lab and stage: the best result of your runs, your last run, and what to run next
	@$(PY) -m workshop.labs progress

next: env ## run the first lab with a stage that has not passed yet
	@$(PY) -m workshop.labs next

watch: env ## run the lab you are on again each time you save its handler.py (Ctrl-C stops)
	@$(PY) -m workshop.labs watch

$(SAM_VENV)/.installed: requirements/sam.txt
	@echo "creating $(SAM_VENV) (AWS SAM CLI, pinned; its boto3 pin clashes with the durable SDK's)..."
	@PYTHON=$(PYTHON) scripts/make-venv $(SAM_VENV) requirements/sam.txt
	@touch $@

$(AWSCLI_VENV)/.installed: requirements/awscli.txt
	@echo "creating $(AWSCLI_VENV) (AWS CLI v1, pinned, for the test that drives the function host with it)..."
	@PYTHON=$(PYTHON) scripts/make-venv $(AWSCLI_VENV) requirements/awscli.txt
	@touch $@

$(CFNLINT_VENV)/.installed: requirements/cfn-lint.txt
	@echo "creating $(CFNLINT_VENV) (cfn-lint, pinned)..."
	@PYTHON=$(PYTHON) scripts/make-venv $(CFNLINT_VENV) requirements/cfn-lint.txt
	@touch $@

validate: $(SAM_VENV)/.installed $(CFNLINT_VENV)/.installed ## lint infra/template.yaml offline: sam validate --lint, then cfn-lint
	@$(OFFLINE_AWS) $(SAM) validate --lint --template-file infra/template.yaml
	@$(CFNLINT_VENV)/bin/cfn-lint infra/template.yaml && echo "cfn-lint: infra/template.yaml has no errors or warnings"

test-compose: ## the compose stack (MiniStack variant) built, run end to end and torn down; skipped without Docker
	@PYTHON=$(PYTHON) bash docker/test-compose.sh

test-devcontainer: ## the dev container (.devcontainer/) built with the Dev Containers CLI, lab 1 and the demo run inside, removed; skipped without Docker or npm
	@PYTHON=$(PYTHON) bash docker/test-devcontainer.sh

deploy: $(SAM_VENV)/.installed ## deploy infra/template.yaml to YOUR AWS account: sam build, sam deploy --guided
	@$(SAM_VENV)/bin/python infra/aws_preflight.py deploy
	$(SAM) build --template-file infra/template.yaml
	$(SAM) deploy --guided

destroy: $(SAM_VENV)/.installed ## delete the deployed stack from your AWS account (sam delete)
	@$(SAM_VENV)/bin/python infra/aws_preflight.py destroy
	$(SAM) delete
