"""The load test's email backend: one JSON line per message (recipient, subject, outbox key).

Set by scripts/loadtest/run.py (EMAIL_BACKEND=scripts.loadtest.mailbox.EmailBackend,
LOADTEST_MAILBOX=FILE) in the web and worker processes, so the database checks can
count each intent's emails: every confirmed booking's confirmation exactly once.
"""

import json
import os
import time

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from outbox.services import current_task_key

        key = current_task_key()
        data = "".join(
            json.dumps({"time": time.time(), "to": m.to, "subject": m.subject, "key": key, "pid": os.getpid()}) + "\n"
            for m in email_messages
        ).encode()
        fd = os.open(os.environ["LOADTEST_MAILBOX"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)  # one O_APPEND write: lines from several processes never interleave
        finally:
            os.close(fd)
        return len(email_messages)
