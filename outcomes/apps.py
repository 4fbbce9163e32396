from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcome scores"

    def ready(self):
        from booking.signals import intake_scales_answered

        from . import receivers

        intake_scales_answered.connect(receivers.intake_scales_answered, dispatch_uid="outcomes-intake-scales")
