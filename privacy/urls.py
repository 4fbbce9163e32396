from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("privacy/", views.privacy_notice, name="notice"),
    path("privacy/account-deleted/", views.erased, name="erased"),
    path("accounts/profile/data/", views.my_data, name="my_data"),
    path("accounts/profile/data.json", views.my_data_json, name="my_data_json"),
    path("accounts/profile/delete/", views.delete_account, name="delete_account"),
    path("staff/data-requests/", views.desk_export, name="desk_export"),
    path("staff/data-requests/erase/", views.desk_erase, name="desk_erase"),
    path("staff/retained-records/", views.retained, name="retained"),
    path("staff/retained-records/<int:booking_id>/", views.retained_open, name="retained_open"),
]
