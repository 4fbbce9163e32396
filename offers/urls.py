from django.urls import path

from . import views

app_name = "offers"
urlpatterns = [
    path("", views.claim, name="claim"),
    path("code/", views.claimed, name="claimed"),
]
