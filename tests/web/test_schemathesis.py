"""Schemathesis against the app's own OpenAPI schema, with an API token: no request the schema
allows may end in a server error (``not_a_server_error``), and every answer's status is one the
schema documents (``status_code_conformance``: the 401/403/404/422… it lists are the real ones).
Bounded examples per operation keep the whole run under a minute or two.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from workbench_fixtures import *  # noqa: F403 (the shared session fixtures)

pytestmark = pytest.mark.slow

# Uploads write to the data source and have their own tests (test_web_requests.py); a password
# change with wrong guesses would lock the shared demo's account (tests in test_sessions.py).
SKIP = ("/api/imports", "/api/me/password")
EXAMPLES = 6


@pytest.fixture(scope="module")
def token(wb_app) -> str:
    from salesflow.web.auth import hash_token, new_api_token

    store = wb_app.state.salesflow.store
    value = new_api_token()
    store.users.add_token(store.users.by_name("ed").id, token_hash=hash_token(value), name="fuzz")
    return value


def _operations(app) -> list:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    return [op.ok() for op in schema.get_all_operations() if op.ok().path not in SKIP]


def test_the_schema_lists_the_workbench_api(wb_app):
    paths = {op.path for op in _operations(wb_app)}
    assert {"/api/udrs", "/api/udrs/{udr_id}/binding", "/api/causes", "/api/links/{link_id}/check",
            "/api/improvements/{improvement_id}/checkins", "/api/home"} <= paths  # fmt: skip


def test_no_request_the_schema_allows_ends_in_a_server_error(wb_app, token):
    failures: list[str] = []
    seen: set[int] = set()
    for operation in _operations(wb_app):

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)  # fmt: skip
        def run(case) -> None:
            # slowness is not a server error: the prioritising backtest takes >10 s (the
            # default timeout) on a loaded 2-core machine
            response = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=120)
            seen.add(response.status_code // 100)
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:1500])
    assert not failures, "\n\n".join(failures)
    assert {2, 4} <= seen  # the token worked, and the schema's edges were tried
