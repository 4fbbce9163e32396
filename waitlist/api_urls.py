from django.urls import path

from . import api

app_name = "waitlist_api"
urlpatterns = [
    path("", api.WaitlistListCreate.as_view(), name="list"),
    path("<int:pk>/", api.WaitlistDetail.as_view(), name="detail"),
]
