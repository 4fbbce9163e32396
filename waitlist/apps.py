from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"
    verbose_name = "Waitlist"

    def ready(self):
        # Connects the receivers (their @receiver decorators) once the booking models exist.
        from . import receivers  # noqa: F401
