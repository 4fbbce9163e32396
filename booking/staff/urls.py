from django.urls import path, register_converter

from . import views


class DayConverter:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


register_converter(DayConverter, "day")

app_name = "staff"
urlpatterns = [
    path("", views.day_view, name="today"),
    path("grid.css", views.grid_css, name="grid_css"),
    path("day/<day:day>/", views.day_view, name="day"),
    path("week/", views.week_all, name="week_all"),
    path("week/all/<day:day>/", views.week_all, name="week_all_of"),
    path("week/<int:practitioner_id>/", views.week_view, name="week"),
    path("week/<int:practitioner_id>/<day:day>/", views.week_view, name="week_of"),
    path("my-day/", views.my_day, name="my_day"),
    path("book/", views.book, name="book"),
    path("bookings/<int:pk>/", views.booking_detail, name="booking"),
    path("bookings/<int:pk>/move/", views.booking_move, name="move"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="cancel"),
    path("bookings/<int:pk>/mark/", views.booking_mark, name="mark"),
    path("bookings/<int:pk>/payment-link/", views.booking_send_link, name="send_link"),
    path("bookings/<int:pk>/take-payment/", views.booking_take_payment, name="take_payment"),
    path("takings/", views.takings, name="takings"),
    path("time-off/new/", views.time_off_new, name="time_off_new"),
    path("time-off/<int:pk>/", views.time_off_detail, name="time_off_detail"),
    path("time-off/<int:pk>/delete/", views.time_off_delete, name="time_off_delete"),
    path("practitioners/<int:practitioner_id>/hours/", views.working_hours, name="working_hours"),
]
