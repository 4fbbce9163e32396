"""Authentication backends that load the signed-in user with their roles in one query.

Every page of a signed-in user fetches the user (Django's ModelBackend.get_user); staff pages then
asked for the user's group names (accounts.roles) and practitioner row, two more round trips on
every request. Here the user row comes with both: the group names as one aggregated text column
and the practitioner row joined (the reverse one-to-one, named as booking.Practitioner.user's
related_name; accounts imports nothing from booking). accounts.roles reads what is set here and
falls back to its own query for a user loaded any other way.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import backends, get_user_model
from django.db.models import Aggregate, OuterRef, Subquery, TextField

# Joins the names in the aggregate; a unit separator cannot be typed into a group's name.
SEPARATOR = "\x1f"


class _JoinedNames(Aggregate):
    """The names joined by SEPARATOR (STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, CHR(31))"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="GROUP_CONCAT", template="%(function)s(%(expressions)s, CHAR(31))",
                           **extra_context)


def _group_names():
    memberships = get_user_model().groups.through.objects.filter(user_id=OuterRef("pk"))
    return Subquery(memberships.values("user_id").annotate(names=_JoinedNames("group__name")).values("names")[:1])


def user_with_roles(user_id):
    """The user (or None), with `_group_names` set and the practitioner row (if any) joined."""
    User = get_user_model()
    user = (User._default_manager.select_related("practitioner").annotate(group_names_joined=_group_names())
            .filter(pk=user_id).first())
    if user is not None:
        joined = user.group_names_joined
        user._group_names = frozenset(joined.split(SEPARATOR)) if joined else frozenset()
    return user


class _WithRoles:
    def get_user(self, user_id):
        user = user_with_roles(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_WithRoles, backends.ModelBackend):
    """Django's username-and-password backend (the admin, login links)."""


class AuthenticationBackend(_WithRoles, AllauthBackend):
    """allauth's backend (log in by email, by code)."""
