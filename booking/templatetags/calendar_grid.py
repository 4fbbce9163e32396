"""{% calendar_grid %} and {% cancelled_items %}: the staff calendars' repeated cells, written in Python (booking/staff/grid_html.py)."""

from django import template
from django.utils.safestring import SafeString

from booking.staff.grid_html import cancelled_html, grid_html

register = template.Library()


@register.simple_tag
def calendar_grid(grid, *, label: str, week: bool, can_book: bool) -> SafeString:
    return grid_html(grid, label=label, week=week, can_book=can_book)


@register.simple_tag
def cancelled_items(bookings) -> SafeString:
    return cancelled_html(bookings)
