import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import is_reception
from common.errors import DomainError
from booking.models import Booking
from booking.staff.permissions import reception_required

from . import gateway, local_gateway, services, webhooks
from .models import Attention, LocalCheckoutSession, Payment

log = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
def local_checkout(request, session_id):
    """The local test-payment mode's checkout page: no card is charged.

    Pay completes the session and delivers checkout.session.completed through
    webhooks.dispatch (the Stripe webhook's own path); Cancel goes back, the
    session stays open until it expires, as at Stripe.
    """
    if not gateway.is_local_mode():
        raise Http404
    row = get_object_or_404(LocalCheckoutSession, session_id=session_id)
    if request.method == "POST" and row.status == LocalCheckoutSession.Status.OPEN:
        if request.POST.get("action") == "pay":
            local_gateway.checkout_session_pay(session_id)
            return redirect(row.success_url.replace("{CHECKOUT_SESSION_ID}", session_id))
        return redirect(row.cancel_url)
    return render(request, "payments/local_checkout.html", {"checkout": row})


@login_required
def success(request, booking_id):
    """Stripe sends the patient here. The redirect alone proves nothing: confirm only from the
    provider's word, by retrieving the session server-side (the webhook may come later, or first)."""
    booking = get_object_or_404(Booking, pk=booking_id, patient=request.user)
    session_id = request.GET.get("session_id", "")
    payment = Payment.objects.filter(booking=booking, checkout_session_id=session_id).exclude(checkout_session_id="").first()
    # Not only pending: a payment we marked expired or failed may have been paid after all.
    if payment and payment.status not in Payment.PAID_STATUSES:
        try:
            session = gateway.current().checkout_session_get(session_id)
        except gateway.GatewayError:
            log.warning("success page could not retrieve %s; the webhook or reconcile_payments will confirm", session_id)
        else:
            if session.status == "complete":
                services.payment_apply_session(session=session)
    return redirect("booking:my_booking", booking.pk)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """POST /payments/stripe/webhook/: signature and timestamp checked, each event applied once.

    Anything malformed (even correctly signed) is a 400 that changes nothing; the local
    test-payment mode accepts nothing here (its events are dispatched in-process)."""
    try:
        event = gateway.current().event_from_request(request.body, request.headers.get("Stripe-Signature"))
        applied = webhooks.dispatch(event)
    except gateway.InvalidEvent as exc:
        log.warning("webhook refused: %s", exc)
        return HttpResponseBadRequest("Invalid event.")
    return HttpResponse("ok" if applied else "duplicate", content_type="text/plain")


@reception_required
def attention_list(request):
    """Reception's "needs attention" list: money a person must sort out, oldest first."""
    items = (
        Attention.objects.filter(resolved_at__isnull=True)
        .select_related("booking__patient", "booking__service", "payment", "refund")
        .order_by("created_at")
    )
    recent = Attention.objects.filter(resolved_at__isnull=False).select_related("resolved_by").order_by("-resolved_at")[:20]
    return render(request, "payments/attention.html", {"items": items, "recent": recent, "nav": "attention"})


@reception_required
@require_POST
def attention_resolve(request, pk):
    """Done by a person, and logged: a desk refund handed back, or a problem sorted out."""
    item = get_object_or_404(Attention, pk=pk, resolved_at__isnull=True)
    note = request.POST.get("note", "").strip()[:500]
    if item.kind == Attention.Kind.DESK_REFUND:
        try:
            services.refund_desk_done(refund_id=item.refund_id, actor=request.user, note=note)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("payments:attention")
        messages.success(request, f"Desk refund of £{item.amount_pence / 100:.2f} recorded as done.")
    elif not note:
        messages.error(request, "Say what was done before marking it resolved.")
        return redirect("payments:attention")
    else:
        services.attention_resolve(key=item.key, resolution=note, actor=request.user)
        messages.success(request, "Marked as resolved.")
    return redirect("payments:attention")


@login_required
def receipt(request, payment_id):
    """A payment's receipt: for the patient who paid and for reception; anyone else gets 404."""
    from .receipts import receipt_for, receipt_payments

    payments = receipt_payments()
    if not is_reception(request.user):
        payments = payments.filter(booking__patient=request.user)
    payment = get_object_or_404(payments, pk=payment_id)
    return render(request, "payments/receipt.html", {"receipt": receipt_for(payment)})
