"""The sciatica intake questionnaire: shape, red flags and clinical flags.

Cauda equina signs stop online booking (NICE CKS "Sciatica", red flags);
other serious-pathology markers let the booking go ahead but flag it for the
physiotherapist.
"""

from dataclasses import asdict, dataclass, field

from .exceptions import InvalidIntake, UrgentCareNeeded

PAIN_AREAS = {
    "lower_back": "Lower back",
    "buttock": "Buttock",
    "thigh": "Thigh",
    "calf": "Calf",
    "foot": "Foot",
}
SIDES = {"left": "Left", "right": "Right", "both": "Both"}

URGENT_SIGNS = {
    "bladder_or_bowel_changes": "New problems controlling your bladder or bowels",
    "saddle_numbness": "Numbness around your genitals, bottom or inner thighs",
    "worsening_weakness_both_legs": "Weakness getting worse in both legs",
}
FLAG_SIGNS = {
    "cancer_history": "History of cancer",
    "unexplained_weight_loss": "Unexplained weight loss",
    "fever": "Fever",
    "recent_trauma": "Recent significant trauma",
}
# Answers read as "yes" when screening raw input for urgent signs: a JSON true, or a
# form's "yes" / "on" / "true" / "1". Screening is deliberately lenient.
YES_VALUES = {"yes", "y", "true", "on", "1"}
LONG_STANDING_WEEKS = 8

# The two 0-10 outcome scales, asked inside the assessment's intake (and before each follow-up, by the outcomes
# app). This project's own wording, no copyrighted questionnaire. Optional in the intake's shape; the patient's
# pages ask for both. They are not kept in the booking's intake: the outcomes app records them for the visit.
SCALES = {
    "leg_pain": ("How bad is the pain in your leg right now?", ("0 = no pain", "10 = as bad as it could be")),
    "activity_limit": (
        "How much does the pain stop you doing your normal activities (work, housework, walking, sleep)?",
        ("0 = not at all", "10 = completely"),
    ),
}


def urgent_signs_in(data) -> list[str]:
    """The cauda equina signs answered yes in raw, possibly incomplete or invalid input.

    Asked before anything else is checked: a patient with these signs sees urgent
    advice whatever else the form holds (NICE CKS "Sciatica": refer immediately).
    """
    if not hasattr(data, "get"):
        return []
    signs = []
    for name in URGENT_SIGNS:
        value = data.get(name)
        if value is True or (isinstance(value, int) and not isinstance(value, bool) and value == 1) or (
            isinstance(value, str) and value.strip().lower() in YES_VALUES
        ):
            signs.append(name)
    return signs
# Set when a phone-booked patient answers an urgent sign through the intake link.
URGENT_CALL_FLAG = "urgent_call"
FLAG_LABELS = {
    URGENT_CALL_FLAG: "URGENT: cauda equina signs in the intake, call the patient now",
    **FLAG_SIGNS,
    "long_standing": f"Pain for over {LONG_STANDING_WEEKS} weeks",
}


@dataclass
class Intake:
    pain_areas: list[str] = field(default_factory=list)
    side: str = ""
    duration_weeks: int = 0
    numbness: bool = False
    tingling: bool = False
    weakness: bool = False
    previous_injuries: str = ""
    bladder_or_bowel_changes: bool = False
    saddle_numbness: bool = False
    worsening_weakness_both_legs: bool = False
    cancer_history: bool = False
    unexplained_weight_loss: bool = False
    fever: bool = False
    recent_trauma: bool = False
    leg_pain: int | None = None
    activity_limit: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "Intake":
        """Parse and check an intake; raise InvalidIntake naming each bad field."""
        if not isinstance(data, dict):
            raise InvalidIntake("The intake must be an object.")
        # Urgent signs come first, whatever else is missing or invalid.
        if signs := urgent_signs_in(data):
            raise UrgentCareNeeded(signs=signs)
        errors: dict[str, str] = {}
        unknown = set(data) - set(cls.__dataclass_fields__)
        for name in sorted(unknown):
            errors[name] = "Unknown question."
        areas = data.get("pain_areas")
        # isinstance before `in`: a JSON list or object is unhashable and would raise TypeError.
        if not isinstance(areas, list) or not areas or not all(isinstance(a, str) and a in PAIN_AREAS for a in areas):
            errors["pain_areas"] = f"Choose one or more of: {', '.join(PAIN_AREAS)}."
        if not isinstance(data.get("side"), str) or data["side"] not in SIDES:
            errors["side"] = "Choose left, right or both."
        weeks = data.get("duration_weeks")
        if isinstance(weeks, bool) or not isinstance(weeks, int) or not 0 <= weeks <= 5200:
            errors["duration_weeks"] = "Give a whole number of weeks."
        previous = data.get("previous_injuries", "")
        # NUL: PostgreSQL's jsonb cannot store \u0000.
        if not isinstance(previous, str) or len(previous) > 2000 or "\x00" in previous:
            errors["previous_injuries"] = "Up to 2,000 characters of text."
        for name in ("numbness", "tingling", "weakness", *URGENT_SIGNS, *FLAG_SIGNS):
            if name in data and not isinstance(data[name], bool):
                errors[name] = "Answer yes (true) or no (false)."
        for name in SCALES:
            value = data.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10):
                errors[name] = "A whole number from 0 to 10."
        given = [name for name in SCALES if data.get(name) is not None]
        if len(given) == 1:
            missing = next(name for name in SCALES if name not in given)
            errors.setdefault(missing, "Give both 0-10 answers, or neither.")
        if errors:
            raise InvalidIntake(errors=errors)
        assert isinstance(areas, list)  # anything else set errors["pain_areas"] above
        return cls(**{**data, "pain_areas": list(dict.fromkeys(areas))})

    def as_dict(self, *, scales: bool = False) -> dict:
        """The answers in api.md's intake shape (kept on the booking); with scales=True, the two scales too."""
        data = asdict(self)
        if not scales:
            for name in SCALES:
                data.pop(name)
        return data

    def scales(self) -> dict | None:
        """{"leg_pain": n, "activity_limit": n} when both were answered, else None."""
        if self.leg_pain is None or self.activity_limit is None:
            return None
        return {"leg_pain": self.leg_pain, "activity_limit": self.activity_limit}

    def urgent_signs(self) -> list[str]:
        return [name for name in URGENT_SIGNS if getattr(self, name)]

    def flags(self) -> list[str]:
        flags = [name for name in FLAG_SIGNS if getattr(self, name)]
        if self.duration_weeks > LONG_STANDING_WEEKS:
            flags.append("long_standing")
        return flags

    def check_safe_to_book(self) -> None:
        if self.urgent_signs():
            raise UrgentCareNeeded(signs=self.urgent_signs())
