"""Celery tasks: the outbox's runner and sweep, the heartbeat, and the periodic commands."""

import socket

from celery import shared_task
from django.core.management import call_command

from . import services

# The management commands beat may run (the cron lines in README.md are the alternative).
PERIODIC_COMMANDS = frozenset({"expire_holds", "reconcile_payments", "send_reminders", "payments_audit", "outbox_sweep"})


@shared_task(name="outbox.run", ignore_result=True)
def run_outbox_task(task_id: int) -> None:
    services.outbox_run(task_id=task_id)


@shared_task(name="outbox.sweep", ignore_result=True)
def sweep_outbox() -> None:
    services.outbox_sweep()


@shared_task(name="outbox.heartbeat", ignore_result=True)
def heartbeat() -> None:
    services.heartbeat_beat(hostname=socket.gethostname())


@shared_task(name="physiobook.command", ignore_result=True)
def run_command(name: str, args: list[str] | None = None) -> None:
    if name not in PERIODIC_COMMANDS:
        raise ValueError(f"{name} is not a periodic command")
    call_command(name, *(args or []))
