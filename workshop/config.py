"""Where the local stack listens and keeps its state.

Every value can be overridden by an environment variable, so tests can run a
second stack on free ports beside a learner's and CI can put state elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from workshop import capped_files

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"
LOCAL_PARAMETERS_PATH = REPO_ROOT / "infra" / "local-parameters.json"

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
# Dummy credentials: the emulator and the durable runner check that requests are
# signed, not who signed them. These values are not, and never were, real keys.
DUMMY_ACCESS_KEY_ID = "local-dummy-access-key"
DUMMY_SECRET_ACCESS_KEY = "local-dummy-secret-key-not-a-real-credential"


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        port = int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name}={raw!r} is not a port number") from exc
    if not 0 < port < 65536:
        raise SystemExit(f"{name}={raw!r} is not a port number (1-65535)")
    return port


def _esm_retry_seconds() -> int:
    """WORKSHOP_ESM_RETRY_SECONDS: how soon a message that a batch gave back is delivered again (locally)."""
    raw = os.environ.get("WORKSHOP_ESM_RETRY_SECONDS", "1")
    try:
        seconds = int(raw)
    except ValueError as exc:
        raise SystemExit(f"WORKSHOP_ESM_RETRY_SECONDS={raw!r} is not a whole number of seconds") from exc
    if not 0 <= seconds <= 43200:  # SQS's own range for a visibility timeout
        raise SystemExit(f"WORKSHOP_ESM_RETRY_SECONDS={raw!r}: use 0 to 43200 seconds")
    return seconds


STACK_MODES = ("embedded", "compose")
# Where docker-compose.yml mounts the repository inside the containers.
COMPOSE_REPO_ROOT = "/workshop"


def stack_mode() -> str:
    """WORKSHOP_STACK: "embedded" (default; `make up` starts the processes on this machine)
    or "compose" (the stack runs in containers, `docker compose up`; nothing is started here)."""
    mode = os.environ.get("WORKSHOP_STACK", "embedded").strip().lower() or "embedded"
    if mode not in STACK_MODES:
        raise SystemExit(f"WORKSHOP_STACK={mode!r}: use one of {', '.join(STACK_MODES)}")
    return mode


def _default_state_dir() -> Path:
    # The compose stack keeps its state in the mounted repository, so the host and the containers share it.
    default = REPO_ROOT / (".workshop-compose" if stack_mode() == "compose" else ".workshop")
    return Path(os.environ.get("WORKSHOP_STATE_DIR", default)).resolve()


@dataclass(frozen=True)
class StackConfig:
    """Ports and the state folder of one local stack."""

    state_dir: Path = field(default_factory=_default_state_dir)
    emulator_port: int = field(default_factory=lambda: _port("WORKSHOP_EMULATOR_PORT", 4566))
    runner_port: int = field(default_factory=lambda: _port("WORKSHOP_RUNNER_PORT", 9014))
    host_port: int = field(default_factory=lambda: _port("WORKSHOP_HOST_PORT", 3001))
    # X-Ray daemon protocol: segments arrive over UDP on this port (the daemon's default)
    xray_port: int = field(default_factory=lambda: _port("WORKSHOP_XRAY_PORT", 2000))
    # The Durable Explorer (workshop/explorer): the stack's executions in a browser
    explorer_port: int = field(default_factory=lambda: _port("WORKSHOP_EXPLORER_PORT", 3002))
    # Listeners bind here; containers set WORKSHOP_BIND_HOST=0.0.0.0 (compose publishes on 127.0.0.1 only).
    bind_host: str = field(default_factory=lambda: os.environ.get("WORKSHOP_BIND_HOST", "127.0.0.1"))
    # Where each service is reached: this machine for the embedded stack, the compose
    # service names inside the containers (docker-compose.yml sets these).
    emulator_host: str = field(default_factory=lambda: os.environ.get("WORKSHOP_EMULATOR_HOST", "127.0.0.1"))
    runner_host: str = field(default_factory=lambda: os.environ.get("WORKSHOP_RUNNER_HOST", "127.0.0.1"))
    function_host: str = field(default_factory=lambda: os.environ.get("WORKSHOP_FUNCTION_HOST", "127.0.0.1"))
    xray_host: str = field(default_factory=lambda: os.environ.get("WORKSHOP_XRAY_HOST", "127.0.0.1"))
    explorer_host: str = field(default_factory=lambda: os.environ.get("WORKSHOP_EXPLORER_HOST", "127.0.0.1"))
    # "embedded": stack.py starts the processes; "compose": they run in containers (WORKSHOP_STACK)
    mode: str = field(default_factory=stack_mode)
    # The event source mappings give a failed message back to its queue this many seconds
    # later; AWS waits for the queue's visibility timeout (see workshop/host/esm.py).
    esm_retry_s: int = field(default_factory=_esm_retry_seconds)
    # WORKSHOP_LOG_MAX_MB: each log and the X-Ray sink's segments.jsonl is rotated at this
    # size, two older files kept (the policy and why: workshop/capped_files.py).
    log_max_mb: float = field(default_factory=capped_files.max_mb_from_env)

    @property
    def log_max_bytes(self) -> int:
        return capped_files.max_bytes_of(self.log_max_mb)

    @property
    def emulator_url(self) -> str:
        return f"http://{self.emulator_host}:{self.emulator_port}"

    @property
    def runner_url(self) -> str:
        return f"http://{self.runner_host}:{self.runner_port}"

    @property
    def host_url(self) -> str:
        return f"http://{self.function_host}:{self.host_port}"

    @property
    def xray_url(self) -> str:
        """The X-Ray sink's HTTP side (segments go to xray_host:xray_port over UDP)."""
        return f"http://{self.xray_host}:{self.xray_port}"

    @property
    def explorer_url(self) -> str:
        """Where the explorer answers from this machine or container (a browser on the host: 127.0.0.1)."""
        return f"http://{self.explorer_host}:{self.explorer_port}"

    def stack_path(self, path: str | Path) -> str:
        """A path of this repository as the stack's processes see it: unchanged for the
        embedded stack; under /workshop (the containers' mount) for the compose stack."""
        path = Path(path)
        if self.mode != "compose" or not path.is_relative_to(REPO_ROOT):
            return str(path)
        root = os.environ.get("WORKSHOP_COMPOSE_REPO_ROOT", COMPOSE_REPO_ROOT)
        return str(Path(root) / path.relative_to(REPO_ROOT))

    @property
    def registry_path(self) -> Path:
        """Written by the provisioner, read by the function host."""
        return self.state_dir / "functions.json"


def stack_env(config: StackConfig) -> dict[str, str]:
    """The env vars that make StackConfig() in another process find this same stack."""
    return {
        "WORKSHOP_STATE_DIR": str(config.state_dir),
        "WORKSHOP_EMULATOR_PORT": str(config.emulator_port),
        "WORKSHOP_RUNNER_PORT": str(config.runner_port),
        "WORKSHOP_HOST_PORT": str(config.host_port),
        "WORKSHOP_XRAY_PORT": str(config.xray_port),
        "WORKSHOP_EXPLORER_PORT": str(config.explorer_port),
    }


def aws_env(config: StackConfig) -> dict[str, str]:
    """Environment that points AWS SDKs at the local stack with dummy credentials."""
    return {
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": config.emulator_url,
        # Lambda (Invoke, the durable APIs, checkpoints) goes to the function host.
        "AWS_ENDPOINT_URL_LAMBDA": config.host_url,
    }


def boto3_client(service: str, config: StackConfig | None = None):
    """A boto3 client for the local stack (Lambda → function host, the rest → emulator)."""
    import boto3
    from botocore.config import Config

    config = config or StackConfig()
    endpoint = config.host_url if service == "lambda" else config.emulator_url
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=960),
    )
