"""The X-Ray sink: a local stand-in for the X-Ray daemon that keeps what it receives.

Why it exists: Powertools Tracer (the X-Ray SDK underneath) sends segments over
UDP to the daemon at AWS_XRAY_DAEMON_ADDRESS, and neither MiniStack nor the
account-free LocalStack has X-Ray. The Tracer lab needs to *see* the segments
an execution's invocations produce, so this process receives them like the
daemon does and keeps them on disk for `workshop traces`.

Protocol (the daemon's; UDP 127.0.0.1:config.xray_port):
    {"format": "json", "version": 1}\\n{...one segment or subsegment document...}
One document per datagram. Subsegments often arrive on their own ("type":
"subsegment", with "parent_id" and "trace_id"), and a long-running entity may
be sent first with "in_progress": true and again when it ends; queries return
the latest document per id, a completed one winning over an in-progress one.

Storage: every accepted document is appended as one JSON line to
config.state_dir/xray/segments.jsonl and read back at start, so traces survive
`make down` / `make up` like the rest of the stack's state. The file is capped
(workshop/capped_files.py: rotated to segments.jsonl.1 and .2 at
WORKSHOP_LOG_MAX_MB), and the sink keeps in memory exactly what the files
hold: when the oldest file is dropped, so are its documents, so a query
answers the same before and after a restart.

HTTP on TCP 127.0.0.1 at the same port number (the real daemon listens on TCP
2000 too, for sampling rules; here it answers queries):
    GET /health                                   {"status": "ok", counters}
    GET /segments?trace_id=&execution_arn=&function=&request_id=
        {"Segments": [...]}: every document of the traces that match all the
        given filters (execution_arn: an `execution_arn` annotation anywhere in
        the trace; function: a segment with that name; request_id: an entity
        with that aws.request_id, repeatable). No filter: every trace.

A malformed datagram is counted, logged and dropped; nothing a client sends
stops the sink. SIGTERM and SIGINT stop it cleanly (exit code 0).
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from workshop import capped_files
from workshop.config import StackConfig

log = logging.getLogger("xray_sink")

HEADER = {"format": "json", "version": 1}
MAX_DATAGRAM = 65_535  # the largest UDP payload; the SDKs stay below it
QUERY_FILTERS = ("trace_id", "execution_arn", "function", "request_id")
_LOGGED_PREVIEW = 160  # bytes of a malformed datagram shown in the log


class MalformedDatagram(ValueError):
    """A datagram the daemon would drop; the message says why."""


def parse_datagram(data: bytes) -> dict[str, Any]:
    """The segment document of one datagram, checked as far as the daemon checks it.

    Checked: the header line is exactly {"format": "json", "version": 1}; the
    body is one JSON object with a string `id`, `trace_id` and `name`, a numeric
    `start_time`, and either an `end_time` or `"in_progress": true` (what
    PutTraceSegments requires of every document).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedDatagram(f"not UTF-8 ({exc.reason})") from exc
    header_line, newline, body = text.partition("\n")
    if not newline:
        raise MalformedDatagram("no header line (expected '{\"format\": \"json\", \"version\": 1}' and a newline)")
    try:
        header = json.loads(header_line)
    except ValueError as exc:
        raise MalformedDatagram(f"header is not JSON: {exc}") from exc
    if header != HEADER:
        raise MalformedDatagram(f"unexpected header {header_line.strip()[:80]!r}")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise MalformedDatagram(f"segment document is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise MalformedDatagram(f"segment document is a {type(document).__name__}, not an object")
    for key in ("id", "trace_id", "name"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise MalformedDatagram(f"segment document has no {key}")
    if not isinstance(document.get("start_time"), (int, float)):
        raise MalformedDatagram(f"segment {document['id']} has no numeric start_time")
    if document.get("in_progress") is not True and not isinstance(document.get("end_time"), (int, float)):
        raise MalformedDatagram(f"segment {document['id']} has neither end_time nor in_progress")
    return document


def walk(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document and every subsegment nested in it (the SDK nests completed children)."""
    yield document
    for child in document.get("subsegments") or ():
        if isinstance(child, dict):
            yield from walk(child)


def latest_per_id(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One document per (trace_id, id): the last one received, unless that would replace
    a completed document with an in-progress one (UDP may reorder)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for document in documents:
        key = (document["trace_id"], document["id"])
        current = latest.get(key)
        if current is not None and not current.get("in_progress") and document.get("in_progress"):
            continue
        latest[key] = document
    return list(latest.values())


def _trace_matches(documents: list[dict[str, Any]], filters: dict[str, list[str]]) -> bool:
    entities = [entity for document in documents for entity in walk(document)]
    if "execution_arn" in filters:
        arns = set(filters["execution_arn"])
        if not any((entity.get("annotations") or {}).get("execution_arn") in arns for entity in entities):
            return False
    if "function" in filters:
        names = set(filters["function"])
        if not any(d.get("type") != "subsegment" and d.get("name") in names for d in documents):
            return False
    if "request_id" in filters:
        ids = set(filters["request_id"])
        if not any((entity.get("aws") or {}).get("request_id") in ids for entity in entities):
            return False
    return True


class SegmentStore:
    """Every accepted document, in memory and appended to a capped JSON-lines file.

    In memory, one list per file of the rotation (oldest first), so a rotation
    that deletes the oldest file forgets its documents too.
    """

    def __init__(self, path: Path, max_bytes: int | None = None) -> None:
        self.path = path
        self._file = capped_files.CappedFile(path, max_bytes)
        self._lock = threading.Lock()
        self._generations: deque[list[dict[str, Any]]] = deque(maxlen=1 + capped_files.BACKUPS)
        self.write_errors = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        for file in capped_files.files(path):
            if file != path:
                self._generations.append(self._load(file))
        self._generations.append(self._load(path))

    @staticmethod
    def _load(path: Path) -> list[dict[str, Any]]:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        documents = []
        for number, line in enumerate(lines, start=1):
            try:
                document = json.loads(line)
            except ValueError:  # a line cut short by a crash: skip it, keep the rest
                log.warning("%s:%d is not JSON; skipped", path, number)
                continue
            if isinstance(document, dict) and isinstance(document.get("id"), str) and isinstance(document.get("trace_id"), str):
                documents.append(document)
        return documents

    def __len__(self) -> int:
        with self._lock:
            return sum(len(documents) for documents in self._generations)

    def add(self, document: dict[str, Any]) -> None:
        line = json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            try:
                for _ in range(self._file.append(line.encode("utf-8"))):
                    self._generations.append([])  # the file rotated: the oldest file's documents are gone
            except OSError as exc:  # a full disk must not stop the sink; memory still answers
                self.write_errors += 1
                log.error("could not append to %s: %s", self.path, exc)
            self._generations[-1].append(document)

    def query(self, filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
        """The documents of every trace matching all filters, oldest first."""
        filters = {k: v for k, v in (filters or {}).items() if v}
        with self._lock:
            documents = [document for generation in self._generations for document in generation]
        if "trace_id" in filters:
            wanted = set(filters["trace_id"])
            documents = [d for d in documents if d["trace_id"] in wanted]
        traces: dict[str, list[dict[str, Any]]] = {}
        for document in latest_per_id(documents):
            traces.setdefault(document["trace_id"], []).append(document)
        selected = [d for docs in traces.values() if _trace_matches(docs, filters) for d in docs]
        return sorted(selected, key=lambda d: (d.get("start_time") or 0.0, d.get("type") == "subsegment"))


class XRaySink:
    """The UDP receiver and the HTTP query server; start() binds both, stop() ends both.

    The ports are separate arguments so tests can bind port 0 for each; the
    stack passes config.xray_port for both, as the daemon uses 2000 for both.
    """

    def __init__(self, store: SegmentStore, host: str, udp_port: int, http_port: int) -> None:
        self.store = store
        self.host = host
        self.received = 0
        self.malformed = 0
        self._udp_port = udp_port
        self._http_port = http_port
        self._stop = threading.Event()
        self._udp: socket.socket | None = None
        self._http: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def udp_address(self) -> tuple[str, int]:
        assert self._udp is not None, "start() first"
        return self._udp.getsockname()[:2]

    @property
    def http_url(self) -> str:
        assert self._http is not None, "start() first"
        return f"http://{self.host}:{self._http.server_address[1]}"

    def start(self) -> None:
        """Bind UDP, then TCP; raise SystemExit with a clear message when either is taken."""
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp.bind((self.host, self._udp_port))
        except OSError as exc:
            udp.close()
            raise SystemExit(f"xray-sink: cannot listen on UDP {self.host}:{self._udp_port}: {exc.strerror}") from exc
        udp.settimeout(0.2)  # lets the loop notice stop() without a wake-up datagram
        handler = type("BoundSinkHandler", (_SinkHandler,), {"sink": self})
        try:
            http = ThreadingHTTPServer((self.host, self._http_port), handler)
        except OSError as exc:
            udp.close()
            raise SystemExit(f"xray-sink: cannot listen on TCP {self.host}:{self._http_port}: {exc.strerror}") from exc
        http.daemon_threads = True
        self._udp, self._http = udp, http
        self._threads = [
            threading.Thread(target=self._receive_loop, name="xray-udp", daemon=True),
            threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, name="xray-http", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Quick (the stack stops the runner after this): wake the receiver instead of waiting for its timeout."""
        self._stop.set()
        if self._udp is not None:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as wake:
                    wake.sendto(b"", self.udp_address)
            except OSError:
                pass  # the receive timeout ends the loop anyway
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._udp is not None:
            self._udp.close()

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "received": self.received,
            "malformed": self.malformed,
            "stored": len(self.store),
            "write_errors": self.store.write_errors,
            "path": str(self.store.path),
        }

    def handle_datagram(self, data: bytes, sender: Any = None) -> bool:
        """Store one datagram's document; count, log and drop it when malformed. Never raises."""
        self.received += 1
        try:
            document = parse_datagram(data)
            self.store.add(document)
            return True
        except MalformedDatagram as exc:
            self.malformed += 1
            log.warning("malformed datagram #%d from %s dropped: %s; starts %r", self.malformed, sender, exc, data[:_LOGGED_PREVIEW])
        except Exception:  # noqa: BLE001 - a bug here must cost one datagram, not the sink
            self.malformed += 1
            log.exception("could not store a datagram from %s", sender)
        return False

    def _receive_loop(self) -> None:
        assert self._udp is not None
        while not self._stop.is_set():
            try:
                data, sender = self._udp.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stop.is_set():
                    return
                log.warning("UDP receive failed: %s", exc)
                continue
            if self._stop.is_set():
                return  # the wake-up datagram of stop()
            self.handle_datagram(data, sender)


class _SinkHandler(BaseHTTPRequestHandler):
    sink: XRaySink  # set on the subclass made by XRaySink.start()
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        try:
            if parsed.path == "/health":
                self._reply(200, self.sink.health())
            elif parsed.path == "/segments":
                query = urllib.parse.parse_qs(parsed.query)
                unknown = sorted(set(query) - set(QUERY_FILTERS))
                if unknown:
                    self._reply(400, {"message": f"unknown parameter(s) {', '.join(unknown)}; use {', '.join(QUERY_FILTERS)}"})
                else:
                    self._reply(200, {"Segments": self.sink.store.query(query)})
            else:
                self._reply(404, {"message": f"the X-Ray sink does not serve GET {parsed.path}"})
        except Exception as exc:  # noqa: BLE001 - answer, never hang the client
            log.exception("error serving GET %s", self.path)
            self._reply(500, {"message": f"xray-sink error: {exc}"})


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = StackConfig()
    store = SegmentStore(config.state_dir / "xray" / "segments.jsonl", config.log_max_bytes)
    sink = XRaySink(store, config.bind_host, config.xray_port, config.xray_port)
    sink.start()
    stopping = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        log.info("stopping (signal %d)", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("X-Ray sink on udp+tcp %s:%d, %d documents in %s", config.bind_host, config.xray_port, len(store), store.path)
    stopping.wait()  # a signal handler runs in this thread and sets it
    sink.stop()
    log.info("stopped after %d datagrams (%d malformed)", sink.received, sink.malformed)


if __name__ == "__main__":
    main()
