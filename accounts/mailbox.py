"""Which mailbox an email address delivers to, and whether a user has proved they read it.

One first-session code per mailbox (design.md): "Sam.Smith+offer2@googlemail.com"
and "samsmith@gmail.com" reach the same inbox, so they get the same code.
"""

from __future__ import annotations

GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def normalise_mailbox(email: str) -> str:
    """Lower-case; a +tag dropped for every domain; for Gmail, dots ignored and googlemail.com folded to gmail.com.

    Stripping +tags everywhere is deliberately strict: most providers deliver
    "name+tag" to "name", and a provider that does not only costs its users
    a second code they were never owed.
    """
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}"


def verified_mailboxes(user) -> set[str]:
    """The mailboxes of the user's email addresses they have confirmed (allauth's EmailAddress)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    from allauth.account.models import EmailAddress

    return {normalise_mailbox(e) for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)}
