"""The .ics for a booking (RFC 5545), in Europe/London with a VTIMEZONE."""

from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, Timezone, vText

from clinic.contact import location
from common.clock import reading_repeats

from .availability import LONDON


def booking_ics(booking) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Physiobook//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(Timezone.from_tzinfo(LONDON, first_date=timezone.localtime(booking.start).date()))
    event = Event()
    event.add("uid", f"booking-{booking.pk}@physiobook")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", _when(booking.start))
    event.add("dtend", _when(booking.end))
    event.add("summary", f"{booking.service.name} with {booking.practitioner.name}")
    event.add("location", vText(location()))
    event.add(
        "description",
        _description(booking),
    )
    # Calendars replace an event with the same UID only when SEQUENCE grows:
    # a moved or cancelled booking's file then updates the one already imported.
    event.add("sequence", int(booking.updated_at.timestamp()) if booking.updated_at else 0)
    event.add("status", "CANCELLED" if booking.status == "cancelled" else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


def _when(instant):
    """London time (TZID=Europe/London), or UTC for a reading the fall-back night has twice: RFC 5545
    reads an ambiguous local time as its first occurrence, so 01:30 GMT would land an hour early."""
    return instant.astimezone(UTC) if reading_repeats(instant) else timezone.localtime(instant, LONDON)


def _description(booking) -> str:
    return (
        "Please wear loose clothing that is easy to remove over the painful area. "
        f"Manage your booking: {settings.SITE_URL}/my-bookings/{booking.pk}/ "
        f"Clinic: {settings.CLINIC_PHONE}"
    )


def google_calendar_url(booking) -> str:
    """An "add to Google Calendar" link for the booking (beside the .ics, for phones without a calendar app)."""
    def utc(instant):
        return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    query = urlencode({
        "action": "TEMPLATE",
        "text": f"{booking.service.name} with {booking.practitioner.name}",
        "dates": f"{utc(booking.start)}/{utc(booking.end)}",
        "location": location(),
        "details": _description(booking),
        "ctz": "Europe/London",
    })
    return f"https://calendar.google.com/calendar/render?{query}"
