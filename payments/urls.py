from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("test-checkout/<str:session_id>/", views.local_checkout, name="local_checkout"),
    path("success/<int:booking_id>/", views.success, name="success"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("attention/", views.attention_list, name="attention"),
    path("attention/<int:pk>/resolve/", views.attention_resolve, name="attention_resolve"),
]
