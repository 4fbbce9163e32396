"""The offer pages: claim with an email address, then see the code and its time left."""

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .forms import ClaimForm
from .models import Offer
from .services import NoOfferRunning, OfferForNewPatients, has_had_first_session, offer_code_claim, offer_code_mine
from .throttles import RateLimited, throttle_claim

# Only that a claim was made, never which code: the code is shown on screen only to its
# signed-in owner with a confirmed address (anyone can type anyone's address into the form).
SESSION_KEY = "offers:claimed"


def time_left_text(left) -> str:
    """timedelta -> '23 hours 59 minutes' (what the page says where JavaScript does not run)."""
    minutes = int(left.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def _returning(request) -> bool:
    return request.user.is_authenticated and has_had_first_session(request.user)


@require_http_methods(["GET", "POST"])
def claim(request):
    initial = {"email": request.user.email} if request.user.is_authenticated else None
    form = ClaimForm(request.POST or None, initial=initial)
    status, retry_after = 200, None
    returning = _returning(request)
    if request.method == "POST" and form.is_valid() and not returning:
        try:
            throttle_claim(request)
            offer_code_claim(email=form.cleaned_data["email"], patient=request.user)
        except RateLimited as limited:
            form.add_error(None, limited.message)
            status, retry_after = 429, limited.retry_after
        except (NoOfferRunning, OfferForNewPatients) as refused:
            form.add_error(None, refused.message)
        except ValidationError as invalid:
            form.add_error("email", invalid)
        else:
            # Post/redirect/get: reloading the page never claims again. The same page for a new
            # address and a known one, so the form tells nobody who has claimed.
            request.session[SESSION_KEY] = True
            return redirect("offers:claimed")
    elif request.method == "POST":
        status = 400
    response = render(request, "offers/claim.html", {
        "form": form, "offer": Offer.current(), "returning": returning,
        "returning_message": OfferForNewPatients.default_message,
    }, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def claimed(request):
    """'We've emailed your code'; to a signed-in patient with a confirmed address, the code itself."""
    code = offer_code_mine(patient=request.user) if request.user.is_authenticated else None
    if code is None:
        if not request.session.get(SESSION_KEY):
            return redirect("offers:claim")
        return render(request, "offers/claimed.html", {"code": None, "offer": Offer.current()})
    now = timezone.now()
    return render(
        request,
        "offers/claimed.html",
        {
            "code": code,
            "offer": code.offer,
            "state": code.state_at(now),
            "seconds_left": int(code.time_left(now).total_seconds()),
            "time_left_text": time_left_text(code.time_left(now)),
            "now": now,
        },
    )
