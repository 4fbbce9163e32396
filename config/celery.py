"""The Celery app: workers run the outbox's tasks and the periodic jobs (beat).

  celery -A config worker     celery -A config beat
The broker is CELERY_BROKER_URL (default: REDIS_URL). Without one, nothing is
sent anywhere: the outbox runs its work in process after commit (make demo).
"""

import os

from celery import Celery
from celery.signals import before_task_publish, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("physiobook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def _carry_request_id(headers=None, **_):
    from common.request_id import current_request_id

    if headers is not None and current_request_id():
        headers["request_id"] = current_request_id()


@task_prerun.connect
def _bind_request_id(task=None, **_):
    from common.request_id import bind_request_id

    bind_request_id(getattr(task.request, "request_id", "") or "")
