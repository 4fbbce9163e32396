from django.urls import path

from . import views

app_name = "outcomes_staff"
urlpatterns = [path("", views.clinic, name="clinic")]
