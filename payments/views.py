import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from booking.models import Booking

from . import gateway, local_gateway, services, webhooks
from .models import LocalCheckoutSession, Payment

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
    payment = Payment.objects.filter(booking=booking, checkout_session_id=session_id).first()
    if payment and payment.status == Payment.Status.PENDING:
        try:
            session = gateway.current().checkout_session_get(session_id)
        except gateway.GatewayUnavailable:
            log.warning("success page could not retrieve %s; the webhook or reconcile_payments will confirm", session_id)
        else:
            if session.status == "complete":
                services.payment_apply_session(session=session)
    return redirect("booking:my_booking", booking.pk)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """POST /payments/stripe/webhook/: signature and timestamp checked, each event applied once."""
    try:
        event = gateway.current().event_from_request(request.body, request.headers.get("Stripe-Signature"))
    except gateway.InvalidEvent as exc:
        log.warning("webhook refused: %s", exc)
        return HttpResponseBadRequest("Invalid event.")
    applied = webhooks.dispatch(event)
    return HttpResponse("ok" if applied else "duplicate", content_type="text/plain")


@login_required
def receipt(request, payment_id):
    """A payment's receipt: for the patient who paid and for reception; anyone else gets 404."""
    from accounts.roles import is_reception

    from .receipts import receipt_for, receipt_payments

    payments = receipt_payments()
    if not is_reception(request.user):
        payments = payments.filter(booking__patient=request.user)
    payment = get_object_or_404(payments, pk=payment_id)
    return render(request, "payments/receipt.html", {"receipt": receipt_for(payment)})
