"""The retry policy shared by the CRM connectors, on its own (the sync tests run it over HTTP)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from salesflow.errors import SalesflowError
from salesflow.sync.http import RetryPolicy, retry_wait


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""


def test_what_is_worth_another_try() -> None:
    assert retry_wait(429, {"Retry-After": "7"}, "") == ("rate", 7.0)
    assert retry_wait(403, {}, '[{"errorCode":"REQUEST_LIMIT_EXCEEDED"}]') == ("rate", None)
    assert retry_wait(403, {}, '[{"errorCode":"INSUFFICIENT_ACCESS"}]') is None
    assert retry_wait(503, {}, "") == ("server", None)
    assert retry_wait(400, {}, "") is None
    # an HTTP date in the past: no wait
    assert retry_wait(429, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, "") == ("rate", 0.0)


def test_waits_double_and_the_tries_are_bounded() -> None:
    waits: list[float] = []
    answers = iter([ConnectionResetError("reset"), Answer(502), Answer(429, {"Retry-After": "3"})])

    def send():
        a = next(answers, Answer(200))
        if isinstance(a, Exception):
            raise a
        return a

    policy = RetryPolicy(service="Salesforce", attempts=4, backoff=0.5, sleep=waits.append)
    assert policy.call(send).status_code == 200
    assert waits == [0.5, 1.0, 3.0]

    policy = RetryPolicy(service="Salesforce", attempts=3, backoff=0.5, sleep=waits.append)
    with pytest.raises(SalesflowError, match="refused a request 3 times: it answered 500"):
        policy.call(lambda: Answer(500))
