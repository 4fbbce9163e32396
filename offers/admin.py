from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from common.clock import LONDON, london_clock

from .forms import IssueCodeForm
from .models import Offer, OfferCode
from .services import NoOfferRunning, offer_code_claim


class OfferAdminForm(forms.ModelForm):
    class Meta:
        model = Offer
        fields = ["name", "percent_off", "validity_hours", "services", "active"]

    def clean_services(self):
        # The offer is for first sessions only (design.md); a code on any other service is refused anyway.
        services = self.cleaned_data["services"]
        others = [service.name for service in services if not service.is_first_session]
        if others:
            raise forms.ValidationError(f"Only first-session services can be chosen; not: {', '.join(others)}.")
        return services


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    form = OfferAdminForm
    list_display = ["name", "percent_off", "validity_hours", "active", "created_at"]
    list_filter = ["active"]
    filter_horizontal = ["services"]


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return OfferCode.State.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(state=self.value())
        return queryset


@admin.register(OfferCode)
class OfferCodeAdmin(admin.ModelAdmin):
    """Codes with their state. "Add" issues a code by hand for a caller, through offer_code_claim."""

    list_display = ["display_code", "email", "state", "issued_at", "expires_at", "used_by", "issued_by"]
    list_filter = [StateFilter, "offer"]
    list_select_related = ["issued_by"]
    search_fields = ["email", "code"]
    readonly_fields = [
        "offer", "code", "display_code", "email", "issued_at", "expires_at", "issued_by",
        "reserved_by", "redeemed_by", "redeemed_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).with_state(timezone.now())

    def get_search_results(self, request, queryset, search_term):
        # Codes are stored without dashes, upper case; staff type them as printed.
        from .services import normalise_code

        queryset, distinct = super().get_search_results(request, queryset, search_term)
        normalised = normalise_code(search_term)
        if normalised and normalised != search_term:
            queryset |= self.get_queryset(request).filter(code=normalised)
        return queryset, distinct

    @admin.display(ordering="state", description="state")
    def state(self, obj):
        return OfferCode.State(obj.state).label

    @admin.display(description="booking")
    def used_by(self, obj):
        booking_id = obj.redeemed_by_id or obj.reserved_by_id
        if not booking_id:
            return "-"
        url = reverse("admin:booking_booking_change", args=[booking_id])
        verb = "redeemed by" if obj.redeemed_by_id else "reserved by"
        return format_html('{} <a href="{}">booking #{}</a>', verb, url, booking_id)

    def has_change_permission(self, request, obj=None):
        # Codes change only through the services (claim, hold, payment); the page is read-only.
        return False if obj is not None else super().has_change_permission(request, obj)

    def add_view(self, request, form_url="", extra_context=None):
        """Issue a code by hand for a caller: the same offer_code_claim as the website (and its email)."""
        form = IssueCodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = offer_code_claim(email=form.cleaned_data["email"], issued_by=request.user)
            except NoOfferRunning as refused:
                form.add_error(None, refused.message)
            except ValidationError as invalid:
                form.add_error("email", invalid)
            else:
                code = result.code
                if result.created:
                    messages.success(request, f"Issued {code.display_code} to {code.email} and emailed it. "
                                              f"Valid until {london_clock(code.expires_at)} on {code.expires_at.astimezone(LONDON):%-d %B %Y} (London time).")
                else:
                    messages.warning(request, f"{code.email} already has a code, {code.display_code} "
                                              f"({OfferCode.State(code.state_at()).label.lower()}). One code per address.")
                return redirect(reverse("admin:offers_offercode_change", args=[code.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Issue an offer code for a caller",
            "form": form,
            "offer": Offer.current(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "offers/admin_issue.html", context)
