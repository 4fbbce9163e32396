"""Request guards that run before any view: the edge of common.hostile's policy.

HostileInputMiddleware refuses, with 400, what no page or API call can mean,
before it reaches a view (ours, allauth's headless API or the Stripe webhook):
a NUL character in the path, the query string or a form field (PostgreSQL
refuses NUL in text, so it would otherwise surface as a 500 wherever a value is
compared in SQL), and a JSON body nested deeper than common.hostile.MAX_JSON_DEPTH
(json.loads recurses: ~1,000 levels is a RecursionError). The API, allauth's
headless API and the webhook answer JSON {"detail", "code": "parse_error"};
pages answer Django's 400 page.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseBadRequest, JsonResponse

from common.hostile import HostileInput, check_json_body, has_nul

JSON_PREFIXES = ("/api/", "/_allauth/", "/payments/stripe/webhook/")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse(request, message: str):
    if request.path.startswith(JSON_PREFIXES):
        return JsonResponse({"detail": message, "code": HostileInput.code}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class HostileInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self.problem(request)
        if problem:
            return _refuse(request, problem)
        return self.get_response(request)

    @staticmethod
    def problem(request) -> str | None:
        if has_nul(request.path) or any(has_nul(k) or has_nul(v) for k, vs in request.GET.lists() for v in [k, *vs]):
            return "The address contains a NUL character."
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = request.content_type or ""
        try:
            # Pages' forms: Django parses them for the view anyway. The API, allauth's headless API and the
            # webhook read the raw body themselves (parsing it here would leave DRF an empty stream).
            if content_type in FORM_TYPES and not request.path.startswith(JSON_PREFIXES):
                if any(has_nul(k) or has_nul(v) for k, vs in request.POST.lists() for v in [k, *vs] if isinstance(v, str)):
                    return "A form field contains a NUL character."
                return None
            body = request.body
        except RequestDataTooBig:
            return "The request is too large."
        if body:
            try:
                check_json_body(body)
            except HostileInput as refused:
                return refused.message
        return None


class PermissionsPolicyMiddleware:
    """The Permissions-Policy header (settings.PERMISSIONS_POLICY) on every response."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.value = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.value:
            response.headers.setdefault("Permissions-Policy", self.value)
        return response
