"""An HTTP proxy in front of a real `mlflow server` that makes it sick on demand.

A real MLflow server cannot be told to answer 503 twice, to lose the answer to a
runs/create it has carried out, or to answer garbage; this proxy does exactly that, for
the requests a rule matches, and forwards everything else unchanged (method, path, body
and the headers Content-Type, Content-Encoding, Accept, Accept-Encoding, Authorization;
the answer's Content-Type and Content-Encoding come back), so every answer that is not
injected is the real server's.

    proxy = TroubledProxy(mlflow_server.url)
    proxy.add("runs/log-batch", "status", times=2, status=503)
    ...  # point tracking_uri at proxy.url
    proxy.close()

Actions: `status` (answer that status with the JSON error MLflow's server sends with it;
a status MLflow's server never answers is refused when the rule is added; do not
forward), `gateway` (502 with an HTML page, as a proxy or cloud gateway in front of
MLflow answers when it cannot reach the server; do not forward), `garbage` (200 with a
body that is not JSON, do not forward), `delay` (wait, then forward), `lose_answer`
(forward, then wait `seconds` before answering: the client times out although the
server did the work).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from mlflow.exceptions import HTTP_STATUS_TO_ERROR_CODE

# Request headers passed to the server, and answer headers passed back.
FORWARDED = (
    "content-type",
    "content-encoding",
    "accept",
    "accept-encoding",
    "authorization",
)
RETURNED = ("Content-Type", "Content-Encoding")
# mlflow.exceptions maps several error codes to one status and keeps the last; for these
# statuses the server's handlers use another code (a missing run, a bad parameter).
SERVER_ERROR_CODES = {
    **HTTP_STATUS_TO_ERROR_CODE,
    400: "INVALID_PARAMETER_VALUE",
    404: "RESOURCE_DOES_NOT_EXIST",
}
GATEWAY_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body>502</body></html>"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that gave up waiting (a time-out test) is expected, not news."""


@dataclass
class Rule:
    path: str  # a substring of the request path, e.g. "runs/log-batch"
    action: str
    times: int | None  # None: every matching request
    skip: int = 0  # let this many matching requests through first
    status: int = 503
    seconds: float = 0.0
    matched: int = 0

    def applies(self, path: str) -> bool:
        if self.path not in path:
            return False
        self.matched += 1
        if self.matched <= self.skip:
            return False
        return self.times is None or self.matched - self.skip <= self.times


@dataclass
class Seen:
    method: str
    path: str
    answered: int | None = None  # the status sent back; None until then


@dataclass
class TroubledProxy:
    target: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, path: str, action: str, times: int | None = 1, **options) -> Rule:
        rule = Rule(path=path, action=action, times=times, **options)
        if action == "status" and rule.status not in SERVER_ERROR_CODES:
            raise ValueError(
                f"MLflow's server never answers {rule.status} (no error_code maps to "
                f"it); one of {sorted(SERVER_ERROR_CODES)}"
            )
        with self._lock:
            self.rules.append(rule)
        return rule

    def count(self, path: str) -> int:
        return sum(1 for seen in self.seen if path in seen.path)

    def _rule(self, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.applies(path):
                    return rule
        return None

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        seen = Seen(request.command, request.path)
        self.seen.append(seen)  # counted as it arrives, answered or not
        rule = self._rule(request.path)
        action = rule.action if rule else "forward"
        if action == "status":
            code = SERVER_ERROR_CODES[rule.status]
            payload = json.dumps({"error_code": code, "message": "injected"}).encode()
            self._answer(
                request,
                seen,
                rule.status,
                payload,
                {"Content-Type": "application/json"},
            )
            return
        if action == "gateway":
            headers = {"Content-Type": "text/html"}
            self._answer(request, seen, 502, GATEWAY_PAGE, headers)
            return
        if action == "garbage":
            self._answer(
                request, seen, 200, b"<html>not json", {"Content-Type": "text/html"}
            )
            return
        if action == "delay":
            time.sleep(rule.seconds)
        status, payload, headers = self._forward(request, body)
        if action == "lose_answer":
            time.sleep(rule.seconds)
        self._answer(request, seen, status, payload, headers)

    def _forward(self, request, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        target = urlsplit(self.target)
        connection = http.client.HTTPConnection(
            target.hostname, target.port, timeout=60
        )
        headers = {
            key: value
            for key, value in request.headers.items()
            if key.lower() in FORWARDED
        }
        try:
            connection.request(
                request.command, request.path, body=body, headers=headers
            )
            response = connection.getresponse()
            returned = {
                name: value
                for name in RETURNED
                if (value := response.getheader(name)) is not None
            }
            return response.status, response.read(), returned
        finally:
            connection.close()

    def _answer(
        self, request, seen: Seen, status: int, payload: bytes, headers: dict[str, str]
    ) -> None:
        seen.answered = status
        try:
            request.send_response(status)
            for name, value in headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a time-out test)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
