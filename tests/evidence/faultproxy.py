"""A real HTTP proxy on loopback, in a thread, that forwards JSON-RPC to a node and injects faults.

Tell it what to do to the next requests (`fail_next`), or to every request (`latency`,
`log_range_cap`); it counts the requests it received. Faults: "timeout" (hold the request past the
client's timeout, then drop it), "429", "500", "garbage" (a 200 whose body is not JSON), "truncated"
(a batch answer with its last item missing), "item_rate_limited" (a batch answer whose first item
is a rate-limit error) and "forward" (no fault: lets a test fail a later request, not the next one).
With log_range_cap set, eth_getLogs calls over more blocks are refused the way hosted providers do.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from evidence.rpc import RetryPolicy

FAULTS = ("timeout", "429", "500", "garbage", "truncated", "item_rate_limited", "forward")
# What tests pair with the proxy: a few rounds, milliseconds apart, timeouts short enough that a
# held request fails fast (the proxy holds "timeout" requests for hang_seconds, longer than this).
FAST_RETRY = RetryPolicy(attempts=3, backoff=0.01, backoff_factor=2.0, backoff_max=0.05, timeout=0.5)
TOO_MANY_RESULTS = {"code": -32005, "message": "query returned more than 10000 results"}


class FaultProxy:
    """Forward POSTs to upstream_url; see the module docstring for the faults it can inject."""

    def __init__(self, upstream_url: str, *, latency: float = 0.0, hang_seconds: float = 2.0) -> None:
        self.upstream_url = upstream_url
        self.latency = latency
        self.hang_seconds = hang_seconds
        self.log_range_cap: int | None = None
        self.requests = 0
        self.faults_served: list[str] = []
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._upstream = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="faultproxy", daemon=True)

    @property
    def url(self) -> str:
        """The proxy's own URL (a path is added so tests can check it never leaks into records)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v3/secret-api-key"

    def fail_next(self, *faults: str) -> None:
        """Queue faults for the next requests, one fault per request, in order."""
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s): {sorted(unknown)}")
        with self._lock:
            self._faults.extend(faults)

    def reset(self) -> None:
        """Forget queued faults and counts."""
        with self._lock:
            self._faults.clear()
            self.requests = 0
            self.faults_served.clear()

    def start(self) -> FaultProxy:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            fault = self._faults.popleft() if self._faults else None
            if fault:
                self.faults_served.append(fault)
            return fault

    def _forward(self, body: bytes) -> bytes:
        session = getattr(self._upstream, "session", None)
        if session is None:
            session = self._upstream.session = requests.Session()
        response = session.post(self.upstream_url, data=body, headers={"Content-Type": "application/json"},
                                timeout=30)
        return response.content

    def _answer(self, body: bytes) -> bytes:
        """Forward a request, refusing the eth_getLogs calls that span more than log_range_cap blocks."""
        if self.log_range_cap is None:
            return self._forward(body)
        calls = json.loads(body)

        def too_wide(call: dict) -> bool:
            if call["method"] != "eth_getLogs":
                return False
            log_filter = call["params"][0]
            return int(log_filter["toBlock"], 16) - int(log_filter["fromBlock"], 16) + 1 > self.log_range_cap

        allowed = [call for call in calls if not too_wide(call)]
        answers = json.loads(self._forward(json.dumps(allowed).encode())) if allowed else []
        answers += [{"jsonrpc": "2.0", "id": call["id"], "error": TOO_MANY_RESULTS} for call in calls if too_wide(call)]
        return json.dumps(answers).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without TCP_NODELAY the second waits for
            # the client's delayed ACK (about 40 ms), which would add latency nobody asked for.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                """Stay quiet: tests read the counters, not a log."""

            def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                """Apply the next fault, if any, else forward the request upstream."""
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fault = proxy._next_fault()
                if proxy.latency:
                    time.sleep(proxy.latency)
                if fault == "timeout":
                    time.sleep(proxy.hang_seconds)
                    self.close_connection = True
                    return
                if fault == "429":
                    self._reply(429, b'{"error":"rate limited"}', {"Retry-After": "0"})
                elif fault == "500":
                    self._reply(500, b"upstream exploded")
                elif fault == "garbage":
                    self._reply(200, b'[{"jsonrpc":"2.0","id":0,"result":"0x1"},{garbage')
                elif fault == "truncated":
                    items = json.loads(proxy._forward(body))
                    self._reply(200, json.dumps(items[:-1]).encode())
                elif fault == "item_rate_limited":
                    items = json.loads(proxy._forward(body))
                    items[0] = {"jsonrpc": "2.0", "id": items[0]["id"],
                                "error": {"code": -32005, "message": "rate limit exceeded, try again"}}
                    self._reply(200, json.dumps(items).encode())
                else:
                    self._reply(200, proxy._answer(body))

        return Handler
