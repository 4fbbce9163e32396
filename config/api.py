"""One exception handler for the API: every error is JSON {"detail", "code"}."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import DomainError


_DRF_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response(exc.as_dict(), status=exc.status_code)
        if exc.extra.get("retry_after") is not None:  # a rate limit counted inside a service
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    if isinstance(exc, DjangoValidationError):
        # A model-level check that no serializer caught: still bad input, not a server error.
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    code = _DRF_CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Some fields are invalid.", "code": "invalid", "errors": data}
    elif isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", None) or code}
    else:
        response.data = {"detail": str(data), "code": code}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
    return response


# --- Plain Django views for /api/ paths that never reach a DRF view ---------------
# (an unknown URL, or an error raised outside the API views), so a client of the
# API always gets JSON, never an HTML page.


def _json_error(detail: str, code: str, status_code: int):
    from django.http import JsonResponse

    return JsonResponse({"detail": detail, "code": code}, status=status_code)


@csrf_exempt  # it changes nothing; without this a POST with a cookie got the HTML CSRF page (schemathesis found it)
def api_not_found(request, *args, **kwargs):
    """The last URL pattern under api/: any path no API view claims."""
    return _json_error("There is no API endpoint at this address.", "not_found", 404)


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return _json_error(f"CSRF Failed: {reason}", "permission_denied", 403)
    from django.views.csrf import csrf_failure as page

    return page(request, reason=reason)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler400(request, exception=None):
    if _is_api(request):
        return _json_error("Bad request.", "bad_request", 400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return _json_error("You do not have permission to do that.", "permission_denied", 403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def handler404(request, exception=None):
    if _is_api(request):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    # A bug, not bad input: the API has no 500 by design, but if one happens the
    # client still gets the error shape it was promised.
    if _is_api(request):
        return _json_error("Something went wrong on our side. Please try again.", "server_error", 500)
    from django.views.defaults import server_error

    return server_error(request)
