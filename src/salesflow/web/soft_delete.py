"""Delete and restore from a page, and their JSON twins, for every soft-deletable entity.

UDRs, improvements, causes and why-links are deleted and restored the same way; each routes
module calls these once with where the browser goes next and how it shows a refusal, so the
version checks and the redirects are written once. (No ``from __future__ import annotations``
here: FastAPI reads these handlers' annotations as objects.)
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from salesflow.errors import SalesflowError
from salesflow.web.deps import Caller, editor, viewer
from salesflow.web.forms import MAX_ID, VersionQuery, form_data
from salesflow.web.preconditions import CHANGE_RESPONSES, IfMatch
from salesflow.web.workbench import (
    change_then_redirect,
    delete_at_version,
    history_of,
    restore_at_version,
    version_of,
)

__all__ = ["soft_delete_api", "soft_delete_forms"]

FormId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: ``problem(request, caller, id, exc)``: the page again with the refusal.
Problem = Callable[[Request, Caller, int, SalesflowError], Response]


def soft_delete_forms(
    router: APIRouter, entity: str, base: str, *, gone_to: str, back_to: str, problem: Problem
) -> None:
    """``POST {base}/{id}/delete`` (the version read is a hidden field; stale: 409, saves
    nothing) and ``POST {base}/{id}/restore``; then to ``gone_to`` / ``back_to`` (``{id}``)."""

    def delete_from_form(
        id: FormId,
        request: Request,
        form: FormData = Depends(form_data),
        caller: Caller = Depends(editor),
    ) -> Response:
        return change_then_redirect(
            request,
            caller,
            lambda wb: wb.delete(entity, id, expected_version=version_of(form)),
            to=gone_to.format(id=id),
            on_error=lambda exc: problem(request, caller, id, exc),
        )

    def restore_from_form(
        id: FormId, request: Request, caller: Caller = Depends(editor)
    ) -> Response:
        return change_then_redirect(
            request,
            caller,
            lambda wb: wb.restore(entity, id),
            to=back_to.format(id=id),
            on_error=lambda exc: problem(request, caller, id, exc),
        )

    for action, handler in (("delete", delete_from_form), ("restore", restore_from_form)):
        router.post(f"{base}/{{id}}/{action}", include_in_schema=False,
                    name=f"{action}_{entity}_from_form")(handler)  # fmt: skip


def soft_delete_api(
    router: APIRouter,
    entity: str,
    base: str,
    *,
    param: str,
    tag: str,
    noun: str,
    id_doc: str,
    restore_doc: str | None = None,
    history_doc: str | None = None,
) -> None:
    """``DELETE {base}/{param}``, ``POST …/restore`` and ``GET …/history``: the JSON twins,
    with the path parameter named ``param`` as the rest of the entity's API names it."""
    EntityId = Annotated[int, Path(alias=param, ge=1, le=MAX_ID, description=id_doc)]
    path = f"{base}/{{{param}}}"

    def delete(
        id: EntityId,
        request: Request,
        version: VersionQuery = None,
        if_match: IfMatch = None,
        caller: Caller = Depends(editor),
    ) -> dict:
        return delete_at_version(request, caller, entity, id, version, if_match)

    def restore(
        id: EntityId, request: Request, if_match: IfMatch = None, caller: Caller = Depends(editor)
    ) -> dict:
        return restore_at_version(request, caller, entity, id, if_match)

    def history(id: EntityId, request: Request, caller: Caller = Depends(viewer)) -> dict:
        return history_of(request, caller, entity, id)

    delete.__doc__ = "Name the version you read (`?version=N` or `If-Match`)."
    restore.__doc__ = restore_doc or "The version is optional here (`If-Match` is checked)."
    history.__doc__ = history_doc or "Who changed what and when, with the record before and after."
    key = entity.replace(" ", "_")
    router.delete(path, tags=[tag], summary=f"Delete {noun} (can be undone)",
                  responses=CHANGE_RESPONSES, name=f"api_delete_{key}")(delete)  # fmt: skip
    router.post(f"{path}/restore", tags=[tag], summary=f"Undo {noun}'s delete",
                responses={409: CHANGE_RESPONSES[409]}, name=f"api_restore_{key}")(restore)  # fmt: skip
    router.get(f"{path}/history", tags=[tag], summary=f"Every change to {noun}",
               name=f"api_history_{key}")(history)  # fmt: skip
