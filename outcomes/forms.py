from booking.forms import ScalesForm


class ScoresForm(ScalesForm):
    """Before a follow-up: the same two scales the assessment's intake asks (booking.intake.SCALES)."""
