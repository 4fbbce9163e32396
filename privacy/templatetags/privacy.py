from datetime import datetime

from django import template
from django.utils.dateformat import format as date_format

register = template.Library()


@register.filter
def when(value: str | None, fmt: str = "j M Y H:i") -> str:
    """An ISO 8601 time from the export (already London time) as people read it."""
    if not value:
        return ""
    try:
        return date_format(datetime.fromisoformat(value), fmt)
    except ValueError:
        return value
