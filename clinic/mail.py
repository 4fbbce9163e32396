"""Every email the clinic sends: plain text (the template) plus a branded HTML
version of the same words, with the clinic's name, number, address and map link."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .contact import contact


def email_context(extra: dict | None = None) -> dict:
    return {**contact(), "site_url": settings.SITE_URL, **(extra or {})}


def email_html(body: str, *, subject: str) -> str:
    return render_to_string("email/branded.html", email_context({"body": body, "subject": subject}))


def email_send(
    *, subject: str, template: str, to: list[str], context: dict | None = None, attachments: tuple = ()
) -> None:
    """Render `template` (plain text) with the clinic's details, add the HTML version, send it."""
    body = render_to_string(template, email_context(context))
    message = EmailMultiAlternatives(subject=subject, body=body, to=to)
    message.attach_alternative(email_html(body, subject=subject), "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    message.send()
