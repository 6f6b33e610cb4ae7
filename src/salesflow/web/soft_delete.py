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
from salesflow.web.deps import Caller, editor
from salesflow.web.forms import MAX_ID, form_data
from salesflow.web.workbench import change_then_redirect, version_of

__all__ = ["soft_delete_forms"]

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
