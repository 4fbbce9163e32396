"""One-time sign-in links for patients booked at the desk, who have no password.

The link carries the user, the booking to land on and a hash of the user's
password field and last login, signed with a timestamp. Signing in changes
last_login, so a link works once; setting a password also ends it; it lapses
after LOGIN_LINK_DAYS. Nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "physiobook.accounts.login-link"


def _fingerprint(user) -> str:
    last_login = "" if user.last_login is None else user.last_login.replace(microsecond=0, tzinfo=None).isoformat()
    return salted_hmac(SALT, f"{user.pk}|{user.password}|{last_login}", algorithm="sha256").hexdigest()[:32]


def login_link_token(*, user, booking_id: int, reschedule: bool = False) -> str:
    data = {"u": user.pk, "b": booking_id, "f": _fingerprint(user)}
    if reschedule:
        data["r"] = 1
    return signing.dumps(data, salt=SALT, compress=True)


@dataclass(frozen=True)
class LoginLink:
    user: object
    booking_id: int
    reschedule: bool = False  # land on the booking's "choose a new time" page


def login_link_check(token: str) -> LoginLink | None:
    """The user and booking a token names, or None if it is forged, lapsed or already used."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.LOGIN_LINK_DAYS * 24 * 3600)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not constant_time_compare(_fingerprint(user), str(data.get("f", ""))):
        return None
    return LoginLink(user=user, booking_id=int(data.get("b", 0)), reschedule=bool(data.get("r")))
