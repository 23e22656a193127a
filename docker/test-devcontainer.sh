#!/usr/bin/env bash
# `make test-devcontainer`: the dev container (.devcontainer/devcontainer.json) as a learner
# gets it. A fresh clone of this repository's HEAD, `devcontainer up` (the Dev Containers CLI,
# pinned in docker/devcontainer-cli/, installed with npm into a temporary folder), then
# inside, as the container's user and through a login shell: the embedded stack's lab 1 with
# its solution (`LAB_TARGET=solution make lab-1`), the demo (`make demo`), the services
# behind the forwarded ports answering inside (`make status`; forwarding itself is the
# editor's: the CLI forwards nothing), and `make down` stopping them. The container and
# the images built for it are removed however it ends. No Docker engine, or no CLI and no npm to install it: skipped, exit 0.
#
#   DEVCONTAINER=/path/to/devcontainer   use this CLI instead of installing the pinned one
#   TEST_DEVCONTAINER_SKIP_DEMO=1        lab 1 only, no demo
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  echo "test-devcontainer: SKIPPED, no Docker engine reachable (docker info failed)."
  exit 0
fi

t0=$SECONDS
phase_start=$SECONDS
phase() { echo; echo "=== $1 (after $((SECONDS - t0)) s)"; phase_start=$SECONDS; }
done_phase() { echo "--- $1: $2 in $((SECONDS - phase_start)) s"; }
# with_deadline SECONDS COMMAND...: COMMAND, ended past SECONDS (SIGTERM, then SIGKILL 10 s
# later) with exit 124. python3, not GNU timeout: macOS has no `timeout`.
with_deadline() {
  "${PYTHON:-python3}" -c '
import subprocess, sys
limit, command = float(sys.argv[1]), sys.argv[2:]
process = subprocess.Popen(command)
try:
    sys.exit(process.wait(timeout=limit))
except subprocess.TimeoutExpired:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    sys.exit(124)
' "$@"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/workshop-devcontainer.XXXXXX")
LABEL=workshop-test-devcontainer=$$-$RANDOM  # finds this run's container even when `up` fails half-way
NAME=workshop-devcontainer-test-$$-$RANDOM   # the clone's folder: its name is in the images' names
container=""
failed=""
started=""

teardown() {
  [[ -n $started ]] || { rm -rf "$WORK"; return; }  # skipped: nothing to say, nothing to remove
  phase "teardown"
  local ids images=""
  ids=$(docker ps -aq --filter "label=$LABEL")
  if [[ -n $failed && -n $ids ]]; then
    echo "logs of the failed run (the container's own, then the stack's):"
    for id in $ids; do docker logs --tail 20 "$id" 2>&1; done
    for id in $ids; do
      docker exec "$id" sh -c 'tail -n 15 "$0"/.workshop/logs/*.log 2>/dev/null' "${workspace:-/}" 2>&1 | tail -n 80
    done
  fi
  for id in $ids; do
    images+=" $(docker inspect --format '{{.Image}}' "$id" 2>/dev/null)"
    docker rm -f "$id" >/dev/null 2>&1
  done
  # the images `up` built for this clone: vsc-<its folder's name>-<hash>, and the -uid variant
  for image in $images $(docker images -q --filter "reference=vsc-$NAME-*"); do
    docker rmi -f "$image" >/dev/null 2>&1
  done
  rm -rf "$WORK"
  done_phase teardown done
}
trap teardown EXIT

# --- the CLI: $DEVCONTAINER, else the pinned version from docker/devcontainer-cli/ (npm ci)
if [[ -n ${DEVCONTAINER:-} ]]; then
  CLI=$DEVCONTAINER
elif command -v npm >/dev/null 2>&1; then
  phase "install the Dev Containers CLI (npm ci, pinned)"
  mkdir -p "$WORK/cli" && cp docker/devcontainer-cli/package.json docker/devcontainer-cli/package-lock.json "$WORK/cli/"
  if ! (cd "$WORK/cli" && with_deadline 300 npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    echo "test-devcontainer: SKIPPED, npm could not install @devcontainers/cli (no registry?)."
    exit 0
  fi
  CLI=$WORK/cli/node_modules/.bin/devcontainer
  done_phase "install" done
else
  echo "test-devcontainer: SKIPPED, no Dev Containers CLI (set DEVCONTAINER=...) and no npm to install it."
  exit 0
fi
if ! version=$("$CLI" --version 2>/dev/null); then
  echo "test-devcontainer: SKIPPED, the Dev Containers CLI does not run here (it needs Node.js 20 or newer)."
  exit 0
fi
echo "test-devcontainer: devcontainer $version, docker $(docker version --format '{{.Server.Version}}' 2>/dev/null)"

# --- a fresh clone: what a learner opens (committed files only, no .venv or .workshop/)
head=$(git rev-parse HEAD)
[[ -n $(git status --porcelain) ]] && echo "note: uncommitted changes are not tested: the clone is HEAD ($head)"
CLONE=$WORK/$NAME
git clone --quiet --no-hardlinks "$REPO" "$CLONE" && git -C "$CLONE" checkout --quiet "$head" || { echo "test-devcontainer: FAILED: git clone"; exit 1; }

# An override config, beside the real one so that its relative paths mean the same:
# - `docker build` may reach the package index only with host networking (some test machines);
# - run as root, the CLI cannot give the container's user the host's UID (0 is root's): the
#   extra image it would build changes nothing, and takes minutes on a slow storage driver.
OVERRIDE=$CLONE/.devcontainer/test-override.json
"${PYTHON:-python3}" - "$CLONE/.devcontainer/devcontainer.json" "$OVERRIDE" "$(id -u)" <<'EOF' || { echo "test-devcontainer: FAILED: .devcontainer/devcontainer.json is not plain JSON"; exit 1; }
import json, sys
config = json.load(open(sys.argv[1]))
config["build"]["options"] = [*config["build"].get("options", []), "--network=host"]
if sys.argv[3] == "0":
    config["updateRemoteUserUID"] = False
json.dump(config, open(sys.argv[2], "w"), indent=2)
EOF
DC_ARGS=(--workspace-folder "$CLONE" --override-config "$OVERRIDE" --id-label "$LABEL")

step() {  # step NAME SECONDS COMMAND...: run with a deadline (LIMIT, read by deadline), time, remember a failure
  local name=$1; LIMIT=$2; shift 2
  phase "$name"
  "$@"
  local rc=$?
  if ((rc == 0)); then done_phase "$name" passed; return 0; fi
  ((rc == 124)) && echo "(deadline of $LIMIT s passed)"
  done_phase "$name" "FAILED (exit $rc)"; failed+=" $name"; return 1
}
deadline() { with_deadline "$LIMIT" "$@"; }
inside() {  # inside SECONDS NAME SCRIPT: a login shell in the workspace, as the remote user
  local limit=$1 name=$2 script=$3
  [[ -n $failed ]] && return 0
  step "$name" "$limit" deadline "$CLI" exec "${DC_ARGS[@]}" bash -lc "$script"
}

up() {
  deadline "$CLI" up "${DC_ARGS[@]}" --remove-existing-container >"$WORK/up.json" 2>"$WORK/up.log"
  local rc=$?
  grep -E '^(\[[^]]*\] )?Step [0-9]+/' "$WORK/up.log" | sed 's/^\[[^]]*\] //' | cut -c1-160
  if ((rc != 0)); then echo "devcontainer up failed; the end of its log:"; tail -n 40 "$WORK/up.log" | cut -c1-400; fi
  tail -n 1 "$WORK/up.json" | cut -c1-400
  return $rc
}
started=1
step "devcontainer up (build the image, start the container)" 2400 up
if [[ -z $failed ]]; then
  read -r container user workspace < <("${PYTHON:-python3}" -c 'import json, sys; r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(r["containerId"], r["remoteUser"], r["remoteWorkspaceFolder"])' "$WORK/up.json")
  echo "container ${container:0:12}, user $user, workspace $workspace"
  if [[ $(id -u) == 0 ]]; then
    # The CLI gives the container's user the host user's UID, except root's: a root host's
    # clone belongs to root. Give it to the container's user, as a learner's clone is theirs.
    docker exec -u root "$container" chown -R "$user:" "$workspace"
  fi
fi

inside 120 "the user, the Python and the workspace (login shell)" '
  set -e
  echo "$(id -un) (uid $(id -u)) in $PWD; python: $(command -v python); make: $(command -v make)"
  [ "$(id -u)" != 0 ] || { echo "runs as root: remoteUser is not applied"; exit 1; }
  [ "$(command -v python)" = /opt/workshop/bin/python ] || { echo "python is not the image environment"; exit 1; }
  mkdir -p .workshop && touch .workshop/.writable && rm .workshop/.writable
  python -c "import workshop.config as c, workshop.host.sandbox; print(\"repository on the path:\", c.REPO_ROOT)"
  test -x "$WORKSHOP_EMULATOR_PYTHON" && test -x "$WORKSHOP_SAM_TRANSLATOR_PYTHON"'
inside 900 "lab 1 with its solution (LAB_TARGET=solution make lab-1)" 'LAB_TARGET=solution make lab-1'
if [[ ${TEST_DEVCONTAINER_SKIP_DEMO:-0} != 1 ]]; then
  inside 900 "the demo (make demo)" 'make demo'
fi
inside 120 "the services behind the forwarded ports answer (make status: explorer 3002, host 3001, emulator 4566)" 'make status'
inside 120 "stop the stack (make down)" 'make down && ! python -m workshop.stack status >/dev/null'

echo
if [[ -n $failed ]]; then
  echo "test-devcontainer: FAILED:$failed ($((SECONDS - t0)) s)"
  exit 1
fi
echo "test-devcontainer: PASSED ($((SECONDS - t0)) s)"
