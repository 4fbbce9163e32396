from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Clinic calendar"

    def ready(self):
        from offers import services as offers

        from . import services, signals

        signals.connect()
        # "Is this code's holder still holding?" is booking's to answer (offers sits below booking).
        offers.provide_facts(hold_is_live=services.booking_hold_is_live)
