"""Django's database sessions, read with one statement written once instead of a queryset per request.

Every page of a signed-in user reads its session first. Django's db backend does it with
Session.objects.get(...), whose compile and model building cost more Python than the query
itself (about 0.8 ms a page, scripts/bench_reports.py and bench_dayview.py, issues 14 and 18).
Here the same row is read by a statement built from the Session model's metadata; saving,
deleting, expiry and clearsessions are Django's own (settings.SESSION_ENGINE names this module).
"""

from __future__ import annotations

from functools import cache

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


@cache
def _statement(alias: str, model) -> str:
    qn = connections[alias].ops.quote_name
    meta = model._meta
    return (f"SELECT {qn(meta.get_field('session_data').column)} FROM {qn(meta.db_table)} "
            f"WHERE {qn(meta.get_field('session_key').column)} = %s "
            f"AND {qn(meta.get_field('expire_date').column)} > %s")


class SessionStore(db.SessionStore):
    def load(self):
        """The session's data, or {} (and no key, so saving makes a new one) when missing or expired."""
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(_statement(alias, self.model),
                           [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
