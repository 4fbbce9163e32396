from django import template

from outcomes import chart
from outcomes.models import OutcomeScore
from outcomes.services import COUNTED, patient_visits

register = template.Library()


@register.inclusion_tag("outcomes/_chart.html")
def outcome_chart(patient_id, name="", heading_level=2, key=""):
    """The patient's scores over visits: an SVG chart with the same figures in a table beside it (one query)."""
    visits = patient_visits(patient_id=patient_id)
    return {"visits": visits, "chart": chart.build(visits), "name": name, "h": heading_level,
            "uid": f"{patient_id}{key}",
            "change": (visits[-1].leg_pain - visits[0].leg_pain) if len(visits) > 1 else None}


@register.inclusion_tag("outcomes/_prompt.html")
def outcome_prompt(booking, now=None):
    """On the patient's booking page: answer (or change) the two scales before the visit."""
    from django.utils import timezone

    now = now or timezone.now()
    open_ = booking.status in COUNTED and booking.end > now
    score = OutcomeScore.objects.filter(booking=booking).first() if open_ else None
    return {"booking": booking, "open": open_, "score": score}
