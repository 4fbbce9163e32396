from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"
    verbose_name = "Waitlist"

    def ready(self):
        from django.db.models.signals import post_save

        from booking.models import Booking
        from booking.signals import slot_freed

        from . import receivers

        slot_freed.connect(receivers.offer_freed_time, dispatch_uid="waitlist-offer-freed-time")
        post_save.connect(receivers.booking_saved, sender=Booking, dispatch_uid="waitlist-booking-saved")
