"""JSON-RPC over HTTP with batches, retries, failover, and each answer kept as the node sent it.

Each call in a batch comes back as an RpcReply holding the exact JSON text of its ``result`` (or
``error``) member as the node sent it (evidence then stores its value in canonical form, see
evidence/canonical.py), the endpoint's host (never the full URL: provider URLs carry
API keys), the method and params, and the time the response arrived. A batch is all-or-nothing:
either every call has a reply, or RpcError is raised after the last attempt on the last endpoint.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.decoder import scanstring
from typing import Any
from urllib.parse import urlsplit

import requests

from evidence.canonical import CanonicalFormError, check_value
from evidence.errors import RpcError

# Per-item errors that mean "not now" rather than "no" (rate limits, timeouts, a node still indexing
# transactions, a load-balanced node behind the head block another one reported), worth another
# round or another endpoint. Matched on the message as well as the code because providers reuse
# codes (-32005 is also "too many results"). A contract's revert is never transient, whatever its
# reason says: a hostile token must not be able to stall a capture by reverting with "rate limit".
_TRANSIENT_CODE = 429
_REVERT_CODE = 3
_TRANSIENT_MESSAGE = re.compile(
    r"rate.?limit|too many requests|timed? ?out|try again|temporarily|over capacity|indexing is in progress"
    r"|header not found|unknown block",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _refuse_non_integer(text: str) -> Any:
    raise ValueError(f"non-integer number {text}")


# JSON-RPC results are hex strings, objects and arrays; a float or NaN means a broken response.
_DECODER = json.JSONDecoder(parse_float=_refuse_non_integer, parse_constant=_refuse_non_integer)


def endpoint_host(url: str) -> str:
    """The host (and explicit port) of an RPC URL: what evidence records as its source, never the path or key."""
    parts = urlsplit(url)
    host = parts.hostname or "unknown-host"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: rounds over all endpoints, exponential backoff between rounds, per-request timeout."""

    attempts: int = 3
    backoff: float = 0.5
    backoff_factor: float = 2.0
    backoff_max: float = 8.0
    timeout: float = 15.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.timeout <= 0 or self.backoff < 0:
            raise ValueError("RetryPolicy needs at least one attempt, a positive timeout and a backoff of zero or more")

    def delay(self, round_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before round `round_number` (1-based after the first), honouring Retry-After."""
        delay = min(self.backoff * self.backoff_factor ** (round_number - 1), self.backoff_max)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay


@dataclass(frozen=True)
class RpcReply:
    """One call's answer exactly as the node sent it, with where and when it came from."""

    method: str
    params: tuple[Any, ...]
    result_json: str | None
    error_json: str | None
    source: str
    captured_at: datetime
    result: Any = field(default=None, repr=False, compare=False)
    error: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the node answered with a result (which may be null), not an error."""
        return self.error_json is None


class _AttemptFailed(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()


def _object_members(text: str, index: int) -> tuple[dict[str, str], int]:
    """Parse the object starting at text[index] ('{'); map each key to the verbatim text of its value."""
    members: dict[str, str] = {}
    index = _skip(text, index + 1)
    if text.startswith("}", index):
        return members, index + 1
    while True:
        if not text.startswith('"', index):
            raise ValueError(f"expected a key at character {index}")
        key, index = scanstring(text, index + 1)
        index = _skip(text, index)
        if not text.startswith(":", index):
            raise ValueError(f"expected ':' at character {index}")
        start = _skip(text, index + 1)
        _, end = _DECODER.raw_decode(text, start)
        members[key] = text[start:end]
        index = _skip(text, end)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
        elif text.startswith("}", index):
            return members, index + 1
        else:
            raise ValueError(f"expected ',' or '}}' at character {index}")


def split_response(text: str) -> list[dict[str, str]] | dict[str, str]:
    """Split a JSON-RPC response into its item objects, keeping each member's value as verbatim JSON text.

    A batch response gives a list; a single object (what nodes send when they reject a whole batch) a dict.
    Raises ValueError when the text is not such a response.
    """
    index = _skip(text, 0)
    if text.startswith("{", index):
        single, end = _object_members(text, index)
        if _skip(text, end) != len(text):
            raise ValueError("trailing data after the response")
        return single
    if not text.startswith("[", index):
        raise ValueError("the response is neither a JSON array nor an object")
    items: list[dict[str, str]] = []
    index = _skip(text, index + 1)
    if text.startswith("]", index):
        index += 1
    else:
        while True:
            if not text.startswith("{", index):
                raise ValueError(f"expected an object at character {index}")
            item, index = _object_members(text, index)
            items.append(item)
            index = _skip(text, index)
            if text.startswith(",", index):
                index = _skip(text, index + 1)
            elif text.startswith("]", index):
                index += 1
                break
            else:
                raise ValueError(f"expected ',' or ']' at character {index}")
    if _skip(text, index) != len(text):
        raise ValueError("trailing data after the response")
    return items


def _is_transient(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    message = str(error.get("message", ""))
    if error.get("code") == _REVERT_CODE or "revert" in message.lower():
        return False
    return error.get("code") == _TRANSIENT_CODE or bool(_TRANSIENT_MESSAGE.search(message))


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


class RpcClient:
    """A JSON-RPC client for one chain's endpoints, tried in order with failover.

    The endpoint that last answered is tried first next time. Large batches are split into
    requests of at most max_batch_size calls. `http_requests` counts HTTP round trips made.
    A client keeps per-endpoint state: use one per thread.
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        retry: RetryPolicy | None = None,
        max_batch_size: int = 500,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not urls:
            raise RpcError("No RPC URL is configured for this chain.")
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        self._urls = tuple(urls)
        self._hosts = tuple(endpoint_host(url) for url in self._urls)
        self.retry = retry or RetryPolicy()
        self.max_batch_size = max_batch_size
        self._session = session or requests.Session()
        self._sleep = sleep
        self._current = 0
        self.http_requests = 0

    @property
    def hosts(self) -> tuple[str, ...]:
        """The endpoints' hosts, in failover order."""
        return self._hosts

    def call(self, method: str, params: Sequence[Any] = ()) -> RpcReply:
        """Make one call (sent as a batch of one, with the same retries)."""
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[RpcReply]:
        """Make calls in as few HTTP requests as max_batch_size allows; replies in the order of calls."""
        replies: list[RpcReply | None] = [None] * len(calls)
        for start in range(0, len(calls), self.max_batch_size):
            self._complete(calls, list(range(start, min(start + self.max_batch_size, len(calls)))), replies)
        return [reply for reply in replies if reply is not None]

    def _complete(self, calls: Sequence[tuple[str, Sequence[Any]]], pending: list[int], replies: list) -> None:
        last_failure = ""
        retry_after: float | None = None
        for round_number in range(self.retry.attempts):
            if round_number:
                self._sleep(self.retry.delay(round_number, retry_after))
            retry_after = None
            for _ in self._urls:
                host = self._hosts[self._current]
                try:
                    pending = self._exchange(self._current, calls, pending, replies)
                    if not pending:
                        return
                    failure = _AttemptFailed(f"{len(pending)} call(s) answered with a temporary error")
                except _AttemptFailed as error:
                    failure = error
                last_failure = f"{host}: {failure.reason}"
                retry_after = failure.retry_after if failure.retry_after is not None else retry_after
                self._current = (self._current + 1) % len(self._urls)
        first = calls[pending[0]][0]
        more = f" and {len(pending) - 1} more call(s)" if len(pending) > 1 else ""
        raise RpcError(
            f"JSON-RPC {first}{more} failed after {self.retry.attempts} round(s) over "
            f"{len(self._urls)} endpoint(s) ({', '.join(self._hosts)}); last error from {last_failure}."
        )

    def _exchange(self, endpoint: int, calls: Sequence[tuple[str, Sequence[Any]]], pending: list[int],
                  replies: list) -> list[int]:
        """Send the pending calls to one endpoint; store what was answered and return what still is not."""
        body = json.dumps([
            {"jsonrpc": "2.0", "id": index, "method": calls[index][0], "params": list(calls[index][1])}
            for index in pending
        ])
        self.http_requests += 1
        try:
            response = self._session.post(
                self._urls[endpoint], data=body, headers={"Content-Type": "application/json"},
                timeout=self.retry.timeout,
            )
        except requests.Timeout:
            raise _AttemptFailed(f"no answer within {self.retry.timeout:g} s") from None
        except requests.ConnectionError as error:
            # The exception text names the full URL, which may hold an API key: keep it out.
            raise _AttemptFailed("connection refused" if "refused" in str(error) else "could not connect") from None
        except requests.RequestException as error:
            raise _AttemptFailed(f"request failed ({type(error).__name__})") from None
        captured_at = datetime.now(UTC)
        if response.status_code != 200:
            reason = f"HTTP {response.status_code} {response.reason or ''}".strip()
            raise _AttemptFailed(reason, _retry_after(response) if response.status_code == 429 else None)
        try:
            parsed = split_response(response.content.decode("utf-8"))
        except ValueError as error:
            raise _AttemptFailed(f"malformed JSON-RPC response ({error})") from None
        if isinstance(parsed, dict):
            message = "no details"
            if "error" in parsed:
                error_value = json.loads(parsed["error"])
                message = str(error_value.get("message", error_value) if isinstance(error_value, dict) else error_value)
            raise _AttemptFailed(f"the batch was refused: {message[:200]}")
        return self._store(endpoint, calls, pending, replies, parsed, captured_at)

    def _store(self, endpoint: int, calls: Sequence[tuple[str, Sequence[Any]]], pending: list[int], replies: list,
               items: list[dict[str, str]], captured_at: datetime) -> list[int]:
        wanted = set(pending)
        for item in items:
            try:
                index = json.loads(item.get("id", "null"))
            except ValueError:
                index = None
            if not isinstance(index, int) or isinstance(index, bool) or index not in wanted:
                raise _AttemptFailed("malformed JSON-RPC response (an item has an unknown id)")
            if "result" in item:
                result_json, error_json = item["result"], None
            elif "error" in item:
                result_json, error_json = None, item["error"]
            else:
                raise _AttemptFailed("malformed JSON-RPC response (an item has neither result nor error)")
            error = json.loads(error_json) if error_json is not None else None
            result = json.loads(result_json) if result_json is not None else None
            try:
                # What evidence cannot hash (an integer too large for RFC 8785, a lone surrogate) is a
                # broken answer like a float is, not a record to fail on later.
                check_value([result, error])
            except CanonicalFormError as problem:
                raise _AttemptFailed(f"malformed JSON-RPC response ({problem})") from None
            if _is_transient(error):
                continue
            method, params = calls[index]
            replies[index] = RpcReply(
                method=method, params=tuple(params), result_json=result_json, error_json=error_json,
                source=self._hosts[endpoint], captured_at=captured_at,
                result=result, error=error,
            )
            wanted.discard(index)
        return [index for index in pending if index in wanted]
