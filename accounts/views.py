from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from .forms import ProfileForm
from .login_links import login_link_check


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your details are saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@never_cache
def login_link(request, token):
    """A one-time sign-in link from a booking email. GET asks for a click (mail scanners
    fetch links and must not use them up); POST signs in and lands on the booking."""
    link = login_link_check(token)
    if link is None:
        return render(request, "accounts/login_link.html", {"invalid": True}, status=410)
    if request.method == "POST":
        login(request, link.user, backend="accounts.backends.ModelBackend")
        if not link.user.has_usable_password():
            messages.success(request, "You are signed in. You can set a password from your profile if you like.")
        mine = link.user.bookings.filter(pk=link.booking_id).exists()
        page = "booking:my_booking_reschedule" if link.reschedule else "booking:my_booking"
        return redirect(reverse(page, args=[link.booking_id]) if mine else reverse("booking:my_bookings"))
    return render(request, "accounts/login_link.html", {"invalid": False, "name": link.user.first_name})
