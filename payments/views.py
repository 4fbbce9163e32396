from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from booking.models import Booking

from . import gateway, local_gateway, services
from .models import LocalCheckoutSession, Payment


@require_http_methods(["GET", "POST"])
def local_checkout(request, session_id):
    """The local test-payment mode's checkout page: no card is charged."""
    if not gateway.is_local_mode():
        raise Http404
    row = get_object_or_404(LocalCheckoutSession, session_id=session_id)
    if request.method == "POST" and row.status == LocalCheckoutSession.Status.OPEN:
        if request.POST.get("action") == "pay":
            session = local_gateway.checkout_session_pay(session_id)
            services.payment_checkout_completed(session=session)
            return redirect(row.success_url.replace("{CHECKOUT_SESSION_ID}", session_id))
        return redirect(row.cancel_url)
    return render(request, "payments/local_checkout.html", {"checkout": row})


@login_required
def success(request, booking_id):
    """Stripe sends the patient here. Confirm only from the provider's word:
    retrieve the session server-side (the webhook may come later, or first)."""
    booking = get_object_or_404(Booking, pk=booking_id, patient=request.user)
    session_id = request.GET.get("session_id", "")
    payment = Payment.objects.filter(booking=booking, checkout_session_id=session_id).first()
    if payment and payment.status == Payment.Status.PENDING:
        try:
            session = gateway.current().checkout_session_get(session_id)
        except gateway.GatewayUnavailable:
            session = None
        if session and session.status == "complete":
            services.payment_checkout_completed(session=session)
    return redirect("booking:my_booking", booking.pk)
