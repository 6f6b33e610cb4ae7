"""The OpenAPI document tells the truth about access: how to authenticate (a session cookie with
its CSRF header, or a bearer token) and the error answers each operation really gives.

Worked out from each route's dependencies, so a new route is described correctly without extra
words: one that needs a signed-in person can answer 401; one that needs an editor or an admin, 403;
one with a path parameter or a body (which may name a record), 404; one with parameters or a body, 400 and 422 (FastAPI's own 422 entry
is replaced by salesflow's error document); one that names the ``version`` it read, 409.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.routing import APIRoute

__all__ = ["install_openapi"]

ERROR = {
    "type": "object",
    "description": "What went wrong, where, and how to fix it, in words a sales leader reads.",
    "properties": {
        "error": {"type": "string", "example": "Please sign in"},
        "where": {"type": ["string", "null"], "example": None},
        "hint": {"type": ["string", "null"], "example": "Open /login"},
    },
    "required": ["error"],
}
SCHEMES = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "salesflow_session",
        "description": "The cookie set by signing in at /login (browsers).",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "With the session cookie, changes also send the page's CSRF token.",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `salesflow user token NAME` (integrations).",
    },
}
WORDS = {
    "401": "Not signed in, or the token is not valid, expired or revoked",
    "403": "Signed in, but the role does not allow this (or the CSRF token is missing)",
    "400": "Input salesflow cannot use (an unknown metric or column, a bad filter, a NUL byte)",
    "404": "There is no such record (or a record the body names does not exist)",
    "409": "Someone changed it after you read it (the version you sent is stale); nothing was saved",
    "422": "A parameter or field the schema refuses",
}


def _needs(route: APIRoute) -> set[str]:
    """Which access gates (``viewer``, ``change``, ``editor``, ``admin``, ``admin_read``) the
    route depends on, however deeply."""
    from salesflow.web import deps

    gates = {deps.viewer: "viewer", deps.own_change: "change", deps.editor: "editor",
             deps.admin: "admin", deps.admin_reader: "admin_read"}  # fmt: skip
    found: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call in gates:
            found.add(gates[dependant.call])
        stack.extend(dependant.dependencies)
    return found


def _errors(route: APIRoute, needs: set[str]) -> list[str]:
    codes = []
    if needs:
        codes.append("401")
    if needs - {"viewer"}:
        codes.append("403")
    if "{" in route.path_format or route.body_field:  # a body may name a record (a link's cause)
        codes.append("404")
    if route.dependant.path_params or route.dependant.query_params or route.body_field:
        codes += ["400", "422"]
    if _names_a_version(route):
        codes.append("409")
    return codes


def _names_a_version(route: APIRoute) -> bool:
    """An edit that carries the ``version`` it read (``?version=`` or a body field) can be stale."""
    if any(p.name == "version" for p in route.dependant.query_params):
        return True
    for param in route.dependant.body_params:
        model = getattr(param.field_info, "annotation", None)
        if "version" in getattr(model, "model_fields", {}):
            return True
    return False


def describe(routes: list[Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Add the security schemes, each operation's security and its error responses."""
    from fastapi.routing import APIRoute

    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SCHEMES)
    components.setdefault("schemas", {})["Error"] = ERROR
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        needs = _needs(route)
        for method in route.methods:
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            if needs:
                changes = bool(needs & {"change", "editor", "admin"})
                session = {"session": [], "csrf": []} if changes else {"session": []}
                operation["security"] = [session, {"bearer": []}]
            responses = operation.setdefault("responses", {})
            for code in _errors(route, needs):
                responses[code] = {"description": WORDS[code], **ref}
    return schema


def install_openapi(app: FastAPI, routes: list[Any]) -> None:
    """Replace ``app.openapi`` with one that adds :func:`describe` (built once, then cached).

    ``routes`` are the routers' own routes (the app only holds them wrapped, unprefixed).
    """
    plain = app.openapi
    built: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not built:
            built.append(describe(routes, plain()))
        return built[0]

    app.openapi = openapi  # type: ignore[method-assign]
