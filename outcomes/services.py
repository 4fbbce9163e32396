"""Recording the scores, and reading them back (per patient over visits; the clinic's average change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common.actor import actor_or_none
from common.errors import DomainError
from booking.models import Booking

from .models import OutcomeScore

Status = Booking.Status
# Visits that count: the patient came, or is still coming.
COUNTED = (Status.CONFIRMED, Status.ATTENDED, Status.HELD)


class InvalidScore(DomainError):
    code = "invalid_score"
    default_message = "Each answer is a whole number from 0 to 10."


class ScoresClosed(DomainError):
    code = "scores_closed"
    status_code = 409
    default_message = "Scores can be given for an upcoming or current visit only."


def _check(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise InvalidScore()
    return value


@transaction.atomic
def outcome_record(*, booking: Booking, leg_pain: int, activity_limit: int, actor=None,
                   now: datetime | None = None) -> OutcomeScore:
    """The patient's answers for this visit (changeable until the visit ends)."""
    now = now or timezone.now()
    leg_pain, activity_limit = _check(leg_pain), _check(activity_limit)
    booking = Booking.objects.select_for_update().get(pk=booking.pk)  # its status now, not as the caller saw it
    if booking.status not in COUNTED or booking.end <= now:
        raise ScoresClosed()
    score, _ = OutcomeScore.objects.update_or_create(
        booking=booking,
        defaults={"leg_pain": leg_pain, "activity_limit": activity_limit, "recorded_at": now,
                  "recorded_by": actor_or_none(actor)},
    )
    return score


@dataclass(frozen=True)
class Visit:
    number: int
    start: datetime
    service: str
    leg_pain: int
    activity_limit: int


def patient_visits(*, patient_id: int) -> list[Visit]:
    """The patient's scored visits in order (one query)."""
    rows = (
        OutcomeScore.objects.filter(booking__patient_id=patient_id, booking__status__in=COUNTED)
        .order_by("booking__start")
        .values_list("booking__start", "booking__service__name", "leg_pain", "activity_limit")
    )
    return [Visit(i, start, service, pain, limit) for i, (start, service, pain, limit) in enumerate(rows, 1)]


@dataclass(frozen=True)
class ClinicChange:
    visits: int
    patients: int
    leg_pain: float | None
    activity_limit: float | None


def clinic_average_change(*, visits: int) -> ClinicChange:
    """Average change from the first scored visit to the N-th, over patients with at least N (negative = better)."""
    rows = (
        OutcomeScore.objects.filter(booking__status__in=COUNTED)
        .order_by("booking__patient_id", "booking__start")
        .values_list("booking__patient_id", "leg_pain", "activity_limit")
    )
    by_patient: dict[int, list[tuple[int, int]]] = {}
    for patient_id, pain, limit in rows:
        by_patient.setdefault(patient_id, []).append((pain, limit))
    changes = [(s[visits - 1][0] - s[0][0], s[visits - 1][1] - s[0][1]) for s in by_patient.values()
               if len(s) >= visits]
    if not changes:
        return ClinicChange(visits, 0, None, None)
    return ClinicChange(
        visits, len(changes),
        round(sum(c[0] for c in changes) / len(changes), 1),
        round(sum(c[1] for c in changes) / len(changes), 1),
    )
