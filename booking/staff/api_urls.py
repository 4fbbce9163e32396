from django.urls import path

from .api import StaffCalendarView

app_name = "staff_api"
urlpatterns = [
    path("calendar/", StaffCalendarView.as_view(), name="calendar"),
]
