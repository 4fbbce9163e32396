"""One mailbox, however its address is written.

Issue 12 and issue 18 share this rule (one first-session code per mailbox,
and a code's uniqueness must survive the patient's erasure), so it lives here
once: lower case; a plus-tag is stripped for every domain; for Gmail, dots in
the local part are ignored and googlemail.com is folded into gmail.com.
"""

from __future__ import annotations

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalise_mailbox(email: str) -> str:
    """'  Jo.Bloggs+physio@GoogleMail.com ' -> 'jobloggs@gmail.com'."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"
