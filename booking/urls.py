from django.urls import path

from . import urgent, views

app_name = "booking"
urlpatterns = [
    path("", views.home, name="home"),
    # The booking flow: service -> practitioner -> day -> time -> intake -> review -> payment.
    path("book/", views.book_service, name="book_service"),
    path("book/choose/", views.book_choose, name="book_choose"),
    path("book/first-session/", views.book_first_session, name="book_first_session"),
    path("book/intake/", views.book_intake, name="book_intake"),
    path("book/review/", views.book_review, name="book_review"),
    path("urgent-care/", urgent.urgent_care, name="urgent_care"),
    path("intake/<str:token>/", views.intake_link, name="intake_link"),
    path("book/<slug:service>/", views.book_practitioner, name="book_practitioner"),
    path("book/<slug:service>/<str:who>/", views.book_day, name="book_day"),
    path("book/<slug:service>/<str:who>/<str:day>/", views.book_time, name="book_time"),
    path("my-bookings/", views.my_bookings, name="my_bookings"),
    path("my-bookings/<int:pk>/", views.my_booking, name="my_booking"),
    path("my-bookings/<int:pk>/pay/", views.my_booking_pay, name="my_booking_pay"),
    path("my-bookings/<int:pk>/cancel/", views.my_booking_cancel, name="my_booking_cancel"),
    path("my-bookings/<int:pk>/reschedule/", views.my_booking_reschedule, name="my_booking_reschedule"),
    path("my-bookings/<int:pk>/calendar.ics", views.my_booking_ics, name="my_booking_ics"),
]
