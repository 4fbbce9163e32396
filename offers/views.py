"""The offer pages: claim with an email address, then see the code and its time left."""

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .forms import ClaimForm
from .models import Offer, OfferCode
from .services import NoOfferRunning, offer_code_claim
from .throttles import RateLimited, throttle_claim

SESSION_KEY = "offers:claimed_code_id"


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


@require_http_methods(["GET", "POST"])
def claim(request):
    form = ClaimForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            throttle_claim(request)
            result = offer_code_claim(email=form.cleaned_data["email"])
        except RateLimited as limited:
            form.add_error(None, limited.message)
            status, retry_after = 429, limited.retry_after
        except NoOfferRunning as refused:
            form.add_error(None, refused.message)
        except ValidationError as invalid:
            form.add_error("email", invalid)
        else:
            # Post/redirect/get: reloading the code page never claims again.
            request.session[SESSION_KEY] = result.code.pk
            request.session["offers:claimed_new"] = result.created
            return redirect("offers:claimed")
    elif request.method == "POST":
        status = 400
    response = render(request, "offers/claim.html", {"form": form, "offer": Offer.current()}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def claimed(request):
    code_id = request.session.get(SESSION_KEY)
    code = OfferCode.objects.select_related("offer").filter(pk=code_id).first() if code_id else None
    if code is None:
        return redirect("offers:claim")
    now = timezone.now()
    return render(
        request,
        "offers/claimed.html",
        {
            "code": code,
            "offer": code.offer,
            "created": request.session.get("offers:claimed_new", False),
            "state": code.state_at(now),
            "seconds_left": int(code.time_left(now).total_seconds()),
            "time_left_text": time_left_text(code.time_left(now)),
            "now": now,
        },
    )
