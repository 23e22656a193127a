#!/usr/bin/env bash
# `make test-compose`: the compose stack (MiniStack variant: no image is pulled), built
# and started under a project name of its own on free 127.0.0.1 ports, then inside the
# containers: the order saga end to end (`python -m workshop.tools.demo`: happy and compensating
# paths) and lab 1's checks (`python -m workshop.labs verify 1`); from the host: the
# published ports answer (`WORKSHOP_STACK=compose ... workshop.stack status`).
# Everything is torn down (`down -v`) however it ends. No Docker engine: skipped, exit 0.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  echo "test-compose: SKIPPED, no Docker engine reachable (docker info failed)."
  exit 0
fi
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  echo "test-compose: SKIPPED, neither \`docker compose\` nor \`docker-compose\` is installed."
  exit 0
fi

PYTHON=${PYTHON:-python3}
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Published ports only (containers always use 4566/9014/3001/2000/3002): never clash with a running stack.
export WORKSHOP_EMULATOR_PORT=$(free_port) WORKSHOP_RUNNER_PORT=$(free_port) WORKSHOP_HOST_PORT=$(free_port) WORKSHOP_XRAY_PORT=$(free_port) WORKSHOP_EXPLORER_PORT=$(free_port)
PROJECT=workshop-test-$$
DC=("${COMPOSE[@]}" -p "$PROJECT" -f docker-compose.yml -f docker-compose.ministack.yml -f docker-compose.test.yml)
echo "test-compose: ${COMPOSE[*]} $("${COMPOSE[@]}" version --short 2>/dev/null), project $PROJECT"

t0=$SECONDS
phase_start=$SECONDS
phase() { echo; echo "=== $1 (after $((SECONDS - t0)) s)"; phase_start=$SECONDS; }
done_phase() { echo "--- $1: $2 in $((SECONDS - phase_start)) s"; }

failed=""
teardown() {
  if [[ -n $failed ]]; then
    echo; echo "=== logs of the failed run"
    "${DC[@]}" logs --tail 40 2>&1 | tail -n 200
  fi
  phase "teardown"
  "${DC[@]}" down -v --remove-orphans >/dev/null 2>&1
  done_phase teardown done
}
trap teardown EXIT

step() {  # step NAME COMMAND...: run, time, remember a failure
  local name=$1; shift
  phase "$name"
  if "$@"; then done_phase "$name" passed; else done_phase "$name" FAILED; failed+=" $name"; fi
}

build() {  # the legacy builder's deprecation notice, once per image, says nothing about this test
  "${DC[@]}" build --quiet 2>&1 | { grep -v -e 'legacy builder is deprecated' -e 'buildx' -e '^$' || true; }
}
step "build images" build
[[ -z $failed ]] && step "start the stack" "${DC[@]}" up -d
[[ -z $failed ]] && step "wait until healthy (inside)" "${DC[@]}" exec -T workshop python -m workshop.stack up
[[ -z $failed ]] && step "order saga end to end (inside)" "${DC[@]}" exec -T workshop python -m workshop.tools.demo
[[ -z $failed ]] && step "lab 1 checks (inside)" "${DC[@]}" exec -T workshop python -m workshop.labs verify 1
if [[ -z $failed && -x .venv/bin/python ]]; then
  step "published ports (host, WORKSHOP_STACK=compose)" env WORKSHOP_STACK=compose .venv/bin/python -m workshop.stack status
fi

echo
if [[ -n $failed ]]; then
  echo "test-compose: FAILED:$failed ($((SECONDS - t0)) s)"
  exit 1
fi
echo "test-compose: PASSED ($((SECONDS - t0)) s)"
