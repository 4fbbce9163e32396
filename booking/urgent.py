"""The urgent-care page: shown instead of a booking when the intake screen finds urgent signs.

Booking's pages and the waitlist's join page both send the patient here (the same screen).
"""

from django.shortcuts import redirect, render

from .exceptions import UrgentCareNeeded
from .intake import URGENT_SIGNS

URGENT_SIGNS_KEY = "urgent_signs"


def urgent_redirect(request, urgent: UrgentCareNeeded):
    """Show the urgent-care page by redirect, so reloading it never asks to resend the form."""
    request.session[URGENT_SIGNS_KEY] = list(urgent.extra.get("signs") or [])
    return redirect("booking:urgent_care")


def urgent_care(request):
    signs = [URGENT_SIGNS[name] for name in request.session.get(URGENT_SIGNS_KEY, []) if name in URGENT_SIGNS]
    return render(request, "booking/urgent_care.html", {"signs": signs})
