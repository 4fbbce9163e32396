from django.urls import path

from . import views

app_name = "waitlist"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("join/<slug:service>/<str:who>/", views.join, name="join"),
    path("<int:pk>/leave/", views.leave_entry, name="leave_entry"),
    path("leave/<str:token>/", views.leave, name="leave"),
    path("offers/<int:pk>/", views.offer, name="offer"),
]
