"""The base of every outcome-named error (booking, offers, payments, waitlist, privacy, outcomes).

Each carries a stable `code` (the API's) and a human message. The API's
exception handler (config.api) and the pages' form helpers both read it, so a
page and the API can never disagree about why something was refused.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "invalid"
    status_code = 400
    default_message = "That request could not be completed."

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, **self.extra}
