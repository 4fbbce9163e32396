from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import Booking, Service


def home(request):
    services = Service.objects.filter(active=True, bookable_online=True)
    return render(request, "booking/home.html", {"services": services})


@login_required
def my_booking(request, pk):
    booking = get_object_or_404(
        Booking.objects.select_related("service", "practitioner__user"), pk=pk, patient=request.user
    )
    return render(request, "booking/my_booking.html", {"booking": booking})
