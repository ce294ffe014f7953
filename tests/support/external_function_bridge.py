"""ExternalFunctionEmulator over HTTP on 127.0.0.1, for a process that must not import it.

`kedro snowflake run --local` runs the procedure in a separate process whose path holds
only what deploy would upload (so it cannot import mini-racer or this test support). That
process's external functions (tests/support/local_patches.py) POST their rows here; this
process runs the project's translator JavaScript in V8 and calls the real `mlflow
server`, exactly as ExternalFunctionEmulator does in-process.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kedro_snowflake_mlops.tracking.contract import FUNCTION_SIGNATURES

from .external_functions import ExternalFunctionEmulator

# How many arguments each bridged function takes: the five of the names contract, and
# sql/07's tag function (run id, key, value) that the task graph's finalizer calls.
ARITIES = {key: len(signature) for key, signature in FUNCTION_SIGNATURES.items()}
ARITIES["run_set_tag"] = 3


class ExternalFunctionBridge:
    def __init__(self, emulator: ExternalFunctionEmulator) -> None:
        self.emulator = emulator
        bridge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    results = bridge.emulator.call(body["function"], body["rows"])
                    status, answer = 200, {"results": results}
                except Exception as error:  # noqa: BLE001 (what fails the statement)
                    status, answer = 500, {"error": f"{type(error).__name__}: {error}"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                del args

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/call"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
