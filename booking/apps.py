from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Clinic calendar"

    def ready(self):
        from . import signals

        signals.connect()
