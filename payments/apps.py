from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from offers import services as offers

        from . import checks  # noqa: F401 - registers the deploy check
        from . import services

        # "Has this patient been to the clinic?" reads bookings and payments: payments answers it.
        offers.provide_facts(been_to_clinic=services.has_had_first_session)
