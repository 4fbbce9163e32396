"""Who did it: the signed-in user, or None for anonymous or system actions (audit rows' FKs)."""

from __future__ import annotations

from typing import Any


def actor_or_none(actor: Any) -> Any:
    """`actor` when it is a signed-in user, else None (AnonymousUser cannot go into a foreign key)."""
    return actor if getattr(actor, "is_authenticated", False) else None
