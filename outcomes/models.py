"""Two 0-10 scales a patient answers at the assessment's intake and before each follow-up: how they are
getting on, over time. The wording (this project's own, no copyrighted questionnaire) is booking.intake.SCALES:
  leg_pain:        "How bad is the pain in your leg right now?" 0 = no pain, 10 = as bad as it could be.
  activity_limit:  "How much does the pain stop you doing your normal activities?" 0 = not at all, 10 = completely.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from booking.models import Booking


class OutcomeScore(models.Model):
    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="outcome_score")
    leg_pain = models.PositiveSmallIntegerField()
    activity_limit = models.PositiveSmallIntegerField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["recorded_at"]
        constraints = [
            models.CheckConstraint(condition=Q(leg_pain__lte=10), name="outcome_leg_pain_0_10"),
            models.CheckConstraint(condition=Q(activity_limit__lte=10), name="outcome_activity_limit_0_10"),
        ]

    def __str__(self) -> str:
        return f"Booking #{self.booking_id}: leg pain {self.leg_pain}, activities {self.activity_limit}"
