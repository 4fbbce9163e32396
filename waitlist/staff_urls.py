from django.urls import path

from . import staff_views

app_name = "waitlist_staff"
urlpatterns = [
    path("", staff_views.day_list, name="day"),
    path("<int:pk>/offer/", staff_views.offer, name="offer"),
]
