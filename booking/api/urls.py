from django.urls import path

from offers import api as offers_api

from . import views

app_name = "api"
urlpatterns = [
    path("services/", views.ServiceList.as_view(), name="services"),
    path("practitioners/", views.PractitionerList.as_view(), name="practitioners"),
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
    path("offers/claim/", offers_api.OfferClaim.as_view(), name="offer_claim"),
    path("offers/mine/", offers_api.OfferMine.as_view(), name="offer_mine"),
    path("offers/validate/", offers_api.OfferValidate.as_view(), name="offer_validate"),
    path("bookings/", views.BookingListCreate.as_view(), name="bookings"),
    path("bookings/<int:pk>/", views.BookingDetail.as_view(), name="booking"),
    path("bookings/<int:pk>/cancel/", views.BookingCancel.as_view(), name="booking_cancel"),
    path("bookings/<int:pk>/reschedule/", views.BookingReschedule.as_view(), name="booking_reschedule"),
]
