"""Authentication backends that load the signed-in user with their roles in one query.

Every page of a signed-in user fetches the user (Django's ModelBackend.get_user); staff pages then
asked for the user's group names (accounts.roles) and practitioner row, two more round trips on
every request. Here the user row comes with both: the group names as one aggregated text column
and the practitioner row joined (the reverse one-to-one, named as booking.Practitioner.user's
related_name; accounts imports nothing from booking). accounts.roles reads what is set here and
falls back to its own query for a user loaded any other way.

The statement is written once per database vendor from the models' metadata, not by a queryset on
every request: compiling select_related + an aggregated subquery cost about 2 ms of Python per
page, twice the query itself (scripts/bench_dayview.py, issue 14). The rows become model instances
as Django's own iterable makes them: from_db after the backend's and the fields' converters
(SQLite returns datetimes as text), with both sides of the one-to-one cached.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import backends, get_user_model
from django.db import connections, router

# Joins the names in the aggregate; a unit separator cannot be typed into a group's name.
SEPARATOR = "\x1f"
_JOINED = {"postgresql": "STRING_AGG({}, CHR(31))", "sqlite": "GROUP_CONCAT({}, CHAR(31))"}


class _Load:
    """SELECT user.*, practitioner.*, (the user's group names joined) ... WHERE user.id = %s, for one database."""

    def __init__(self, alias: str):
        connection = connections[alias]
        qn = connection.ops.quote_name
        User = get_user_model()
        # Any: django-stubs type get_field() as any kind of field; these two are relations.
        practitioner_rel: Any = User._meta.get_field("practitioner")  # the reverse side of Practitioner.user
        groups: Any = User._meta.get_field("groups")
        Practitioner, Group, through = practitioner_rel.related_model, groups.related_model, groups.remote_field.through
        self.alias, self.user_model, self.practitioner_model = alias, User, Practitioner
        self.user_fields = list(User._meta.concrete_fields)
        self.practitioner_fields = list(Practitioner._meta.concrete_fields)
        self.user_names = [f.attname for f in self.user_fields]
        self.practitioner_names = [f.attname for f in self.practitioner_fields]
        self.practitioner_rel = practitioner_rel
        columns = [f"u.{qn(f.column)}" for f in self.user_fields] + [f"p.{qn(f.column)}" for f in self.practitioner_fields]
        group_name = "g." + qn(Group._meta.get_field("name").column)
        names = (f"SELECT {_JOINED[connection.vendor].format(group_name)} "
                 f"FROM {qn(through._meta.db_table)} ug INNER JOIN {qn(Group._meta.db_table)} g "
                 f"ON ug.{qn(groups.m2m_reverse_name())} = g.{qn(Group._meta.pk.column)} "
                 f"WHERE ug.{qn(groups.m2m_column_name())} = u.{qn(User._meta.pk.column)}")
        self.sql = (f"SELECT {', '.join(columns)}, ({names}) FROM {qn(User._meta.db_table)} u "
                    f"LEFT OUTER JOIN {qn(Practitioner._meta.db_table)} p "
                    f"ON p.{qn(practitioner_rel.field.column)} = u.{qn(User._meta.pk.column)} "
                    f"WHERE u.{qn(User._meta.pk.column)} = %s")
        self.columns = [f.get_col("u") for f in self.user_fields] + [f.get_col("p") for f in self.practitioner_fields]

    def __call__(self, user_id):
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [self.user_model._meta.pk.get_prep_value(user_id)])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row[:-1])
        for index, column in enumerate(self.columns):
            # What the ORM applies to a value it read: the backend's converters, then the field's.
            for convert in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
                values[index] = convert(values[index], column, connection)
        split = len(self.user_fields)
        user = self.user_model.from_db(self.alias, self.user_names, values[:split])
        practitioner = None
        if values[split] is not None:  # the practitioner's primary key: NULL when no row joined
            practitioner = self.practitioner_model.from_db(self.alias, self.practitioner_names, values[split:])
            self.practitioner_rel.field.set_cached_value(practitioner, user)
        self.practitioner_rel.set_cached_value(user, practitioner)  # None: user.practitioner raises DoesNotExist
        joined = row[-1]
        user._group_names = frozenset(joined.split(SEPARATOR)) if joined else frozenset()
        return user


@cache
def _load(alias: str) -> _Load:
    return _Load(alias)


def user_with_roles(user_id):
    """The user (or None), with `_group_names` set and the practitioner row (if any) joined."""
    return _load(router.db_for_read(get_user_model()))(user_id)


class _WithRoles:
    def get_user(self, user_id):
        user = user_with_roles(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_WithRoles, backends.ModelBackend):
    """Django's username-and-password backend (the admin, login links)."""


class AuthenticationBackend(_WithRoles, AllauthBackend):
    """allauth's backend (log in by email, by code)."""
