from django.urls import path

from . import views

app_name = "booking"
urlpatterns = [
    path("", views.home, name="home"),
    path("my-bookings/<int:pk>/", views.my_booking, name="my_booking"),
]
