from django.contrib import admin
from django.urls import include, path

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/profile/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("payments/", include("payments.urls")),
    path("offer/", include("offers.urls")),
    path("staff/", include("booking.staff.urls")),
    # Before any "api/v1/" include, so the staff calendar is matched first.
    path("api/v1/staff/", include("booking.api.staff_urls")),
    path("", include("booking.urls")),
]
