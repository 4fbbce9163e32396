from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from common.errors import DomainError
from booking.models import Booking
from booking.staff.permissions import staff_required

from . import services
from .forms import ScoresForm
from .models import OutcomeScore


@login_required
def score(request, pk):
    # Another patient's booking is a 404.
    booking = get_object_or_404(Booking.objects.select_related("service"), pk=pk, patient=request.user)
    existing = OutcomeScore.objects.filter(booking=booking).first()
    initial = {"leg_pain": existing.leg_pain, "activity_limit": existing.activity_limit} if existing else None
    form = ScoresForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.outcome_record(booking=booking, actor=request.user, **form.cleaned_data)
        except DomainError as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, "Thank you: your answers are saved for your physiotherapist.")
        return redirect("booking:my_booking", booking.pk)
    return render(request, "outcomes/score.html", {"booking": booking, "form": form})


@staff_required
def clinic(request):
    try:
        visits = max(2, min(20, int(request.GET.get("visits", 3))))
    except ValueError:
        visits = 3
    return render(request, "outcomes/clinic.html", {
        "result": services.clinic_average_change(visits=visits), "choices": range(2, 11), "nav": "outcomes",
    })
