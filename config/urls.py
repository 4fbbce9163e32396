from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts import views as account_views

from . import api
from .health import healthz, readyz

# /admin/login/ sends people to allauth's log-in page, so the admin shares its failed-login
# limits and lockout (ACCOUNT_RATE_LIMITS) instead of Django's unlimited form.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("privacy.urls")),
    path("reports/", include("reports.urls")),
    path("accounts/profile/", include("accounts.urls")),
    path("accounts/link/<str:token>/", account_views.login_link, name="login_link"),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("payments/", include("payments.urls")),
    path("offer/", include("offers.urls")),
    path("waitlist/", include("waitlist.urls")),
    path("sms/", include("sms.urls")),
    path("staff/waitlist/", include("waitlist.staff_urls")),
    path("staff/outcomes/", include("outcomes.staff_urls")),
    path("outcomes/", include("outcomes.urls")),
    path("staff/", include("booking.staff.urls")),
    # Before "api/v1/", so the staff calendar is matched first.
    path("api/v1/staff/", include("booking.staff.api_urls")),
    path("api/v1/waitlist/", include("waitlist.api_urls")),
    path("api/v1/", include("booking.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # CSP-clean: the split view serves Swagger UI's start-up script as a file, not inline.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
         name="api_docs"),
    # Redoc injects <style> elements as it renders (styled-components): this one developer page
    # allows inline style, nothing else (no inline script, no other origin).
    path("api/redoc/", csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")), name="api_redoc"),
    path("", include("booking.urls")),
    # Keep last: any other /api/ path is a JSON 404 (not an HTML page, and not
    # APPEND_SLASH's redirect, which Django cannot do for a POST).
    re_path(r"^api/", api.api_not_found),
]

handler400 = api.handler400
handler403 = api.handler403
handler404 = api.handler404
handler500 = api.handler500
