"""How every CRM connector treats a busy or flaky API: wait, retry a bounded number of times, or stop
with a sentence.

- A rate limit — HTTP 429, or Salesforce's 403 ``REQUEST_LIMIT_EXCEEDED`` — is waited out: as long as
  ``Retry-After`` says (seconds or an HTTP date), else with the backoff below; a wait longer than
  ``max_wait`` is not attempted (the sync stops and says when to try again).
- A transient failure — the connection refused or dropped, a timeout, a 5xx answer — is retried
  after ``backoff`` seconds, doubling each time.
- After ``attempts`` tries in all the sync stops with a :class:`~salesflow.errors.SalesflowError`.

:class:`RetryPolicy` is independent of the HTTP library (a connector hands it a function that sends
one request); :func:`retrying_session` wraps it around a ``requests`` session, which is what
``simple-salesforce`` takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

from salesflow.errors import SalesflowError

__all__ = ["RetryPolicy", "retry_wait", "retrying_session"]

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})


class Answer(Protocol):
    status_code: int
    headers: Mapping[str, str]
    text: str


def _retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (``None`` when absent or unreadable)."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_wait(
    status: int, headers: Mapping[str, str], body: str
) -> tuple[str, float | None] | None:
    """Why an answer is worth another try and the wait the server asked for: ``("rate", s)`` for
    a rate limit, ``("server", None)`` for a 5xx; ``None`` when it is final."""
    if status == 429 or (status == 403 and "REQUEST_LIMIT_EXCEEDED" in body):
        return "rate", _retry_after(headers)
    if status in TRANSIENT_STATUS:
        return "server", _retry_after(headers)
    return None


@dataclass
class RetryPolicy:
    """``attempts`` tries in all; ``backoff`` seconds before the first retry, doubled each time;
    a server asking for more than ``max_wait`` seconds is not waited for."""

    service: str = "The CRM"  # named in messages: "Salesforce", "HubSpot"
    address_setting: str = "the CRM's address"  # what to check: "[sync.salesforce] instance_url"
    attempts: int = 5
    backoff: float = 1.0
    max_wait: float = 300.0
    #: exceptions meaning the request never got a whole answer (connection refused or dropped)
    transient: tuple[type[BaseException], ...] = (OSError,)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    on_wait: Callable[[str], None] | None = field(default=None, repr=False)

    def call(self, send: Callable[[], T], *, what: str = "a request") -> T:
        """``send()`` until it gives a final answer (returned, whatever its status) or the tries
        run out (:class:`SalesflowError`). ``send`` returns something with ``status_code``,
        ``headers`` and ``text``, or raises one of :attr:`transient`."""
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                answer: Any = send()
            except self.transient as exc:
                if last:
                    raise SalesflowError(
                        f"{self.service} could not be reached for {what} after "
                        f"{self.attempts} tries ({_reason(exc)})",
                        hint=f"Check the network and {self.address_setting}, then sync again; "
                        "nothing was changed",
                    ) from exc
                self._wait(delay, f"{self.service} did not answer ({_reason(exc)})")
                delay *= 2
                continue
            verdict = retry_wait(answer.status_code, answer.headers, answer.text or "")
            if verdict is None:
                return answer
            kind, asked = verdict
            if asked is not None and asked > self.max_wait:
                raise SalesflowError(
                    f"{self.service} asks salesflow to wait {asked:,.0f} seconds before "
                    f"{what} (its API limit is used up)",
                    hint="Sync again later, or ask your CRM administrator to raise the "
                    "API limit; nothing was changed",
                )
            if last:
                reason = (
                    "its API limit is used up"
                    if kind == "rate"
                    else f"it answered {answer.status_code}"
                )
                raise SalesflowError(
                    f"{self.service} refused {what} {self.attempts} times: {reason}",
                    hint="Sync again later; nothing was changed",
                )
            wait = asked if asked is not None else delay
            label = "is busy" if kind == "rate" else f"answered {answer.status_code}"
            self._wait(wait, f"{self.service} {label}")
            delay *= 2
        raise AssertionError("unreachable")  # the loop returns or raises

    def _wait(self, seconds: float, why: str) -> None:
        if self.on_wait is not None:
            self.on_wait(f"{why}; trying again in {seconds:,.1f} s")
        self.sleep(seconds)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def retrying_session(
    policy: RetryPolicy, *, what: str = "a request", counter: list[int] | None = None
):
    """A ``requests.Session`` whose every request follows ``policy``; ``counter[0]`` counts the
    HTTP requests sent (retries included)."""
    import requests

    tally = counter if counter is not None else [0]

    class RetryingSession(requests.Session):
        def request(self, method, url, *args, **kwargs):  # type: ignore[override]
            def send():
                tally[0] += 1
                return super(RetryingSession, self).request(method, url, *args, **kwargs)

            return policy.call(send, what=what)

    return RetryingSession()
