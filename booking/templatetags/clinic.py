from datetime import datetime

from django import template
from django.conf import settings
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from clinic.contact import phone_tel
from common.clock import zone_if_repeated

register = template.Library()


@register.filter
def pounds(pence) -> str:
    """1234 -> '£12.34' (money is integer pence everywhere)."""
    if pence in (None, ""):
        return ""
    pence = int(pence)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


@register.filter
def field_layout(field) -> str:
    """How includes/field.html lays a bound field out: "check" (a lone checkbox), "radio" or "choices"
    (a fieldset of radio buttons or of several checkboxes), else "plain" (a <select multiple> included:
    it is one element with its label, not choices to list).

    Asked here with getattr because most widgets have no allow_multiple_selected and many no
    input_type: a lookup the template cannot resolve costs a dir() of the widget (~0.3 ms a field).
    """
    widget = field.field.widget
    input_type = getattr(widget, "input_type", None)
    if input_type == "checkbox" and not getattr(field.field, "choices", None):
        return "check"
    if input_type == "radio":
        return "radio"
    if input_type == "checkbox" and getattr(widget, "allow_multiple_selected", False):
        return "choices"
    return "plain"


@register.filter
def clinic_phone_link(text) -> str:
    """Escape a message and turn the clinic's number in it into a tel: link ("please call us on ...")."""
    escaped = escape(str(text))
    phone = escape(settings.CLINIC_PHONE)
    if not phone or phone not in escaped:
        return mark_safe(escaped)  # escaped above
    link = format_html('<a href="{}" class="tel">{}</a>', phone_tel(), settings.CLINIC_PHONE)
    return mark_safe(escaped.replace(phone, link))  # both parts escaped


@register.filter
def repeated_zone(instant) -> str:
    """Put after a time: " BST" or " GMT" where that reading happens twice (the fall-back night, when
    01:00-01:59 comes round again), so the two are told apart; nothing on every other time."""
    if not isinstance(instant, datetime) or instant.tzinfo is None:
        return ""
    return zone_if_repeated(instant)
