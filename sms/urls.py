from django.urls import path

from . import views

app_name = "sms"
urlpatterns = [
    path("preferences/", views.preferences, name="preferences"),
    path("twilio/status/", views.status_callback, name="status"),
    path("twilio/inbound/", views.inbound, name="inbound"),
]
