"""How patients reach the clinic: one home for the name, number, address and map link."""

import re

from django.conf import settings


def phone_tel() -> str:
    """CLINIC_PHONE as a tel: URI ("020 7946 0000" -> "tel:02079460000"; a leading + is kept)."""
    phone = settings.CLINIC_PHONE.strip()
    return "tel:" + ("+" if phone.startswith("+") else "") + re.sub(r"\D", "", phone)


def contact() -> dict:
    """Template context for pages and emails."""
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "clinic_phone_tel": phone_tel(),
        "clinic_address": settings.CLINIC_ADDRESS,
        "clinic_map_url": settings.CLINIC_MAP_URL,
    }


def location() -> str:
    """One line for a calendar entry's LOCATION."""
    return f"{settings.CLINIC_NAME}, {settings.CLINIC_ADDRESS}"
