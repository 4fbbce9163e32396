"""Request ids and log lines.

Every request gets an id (the proxy's X-Request-ID when it sends a sane one,
else a new one), echoed in the response header and put on every log line
emitted while handling it. Work queued through the outbox carries the id of
the request that queued it, so a worker's log lines join the request's.
"""

from __future__ import annotations

import logging
import re
import uuid

from common.request_id import current_request_id, request_id_bound

__all__ = ["current_request_id", "request_id_bound", "RequestIdMiddleware", "RequestIdFilter",
           "DatabaseUnavailableMiddleware"]

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        value = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        request.request_id = value
        with request_id_bound(value):
            response = self.get_response(request)
        response["X-Request-ID"] = value
        return response


class RequestIdFilter(logging.Filter):
    """Adds record.request_id (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs 4xx/5xx after the middleware has returned: read the request's own id then.
        record.request_id = current_request_id() or getattr(getattr(record, "request", None), "request_id", "")
        return True


class DatabaseUnavailableMiddleware:
    """A lost database connection (PostgreSQL restarting, a failover) answers 503 with
    Retry-After, as JSON {"detail", "code"} under /api/, instead of a 500 page. Django's
    conn_health_checks reconnect on the next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import InterfaceError, OperationalError
        from django.http import HttpResponse, JsonResponse

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logging.getLogger(__name__).warning("database unavailable on %s: %s", request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": "The service is briefly unavailable. Please try again in a moment.",
                                     "code": "temporarily_unavailable"}, status=503)
        else:
            response = HttpResponse("The clinic's booking system is briefly unavailable. Please try again in a moment.",
                                    status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response
