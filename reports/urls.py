from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>.csv", views.download, name="csv"),
]
