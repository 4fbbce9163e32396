"""The id of the request (or queued task) being handled, for log lines.

A leaf, so the outbox and Celery can carry a request's id into the work it
queued without importing the web layer (config.observability sets it per
request and puts it on log lines).
"""

from __future__ import annotations

import contextlib
import contextvars

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def bind_request_id(value: str) -> None:
    """For the rest of this context (a Celery task's run), log lines carry this id."""
    _request_id.set(value or "")


@contextlib.contextmanager
def request_id_bound(value: str):
    token = _request_id.set(value or "")
    try:
        yield
    finally:
        _request_id.reset(token)
