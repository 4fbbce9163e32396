"""The intake's two scales (booking.signals.intake_scales_answered) become the visit's outcome record."""

from .services import outcome_record


def intake_scales_answered(sender, *, booking, leg_pain, activity_limit, actor=None, now=None, **kwargs):
    outcome_record(booking=booking, leg_pain=leg_pain, activity_limit=activity_limit, actor=actor, now=now)
