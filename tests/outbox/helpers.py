"""Functions the outbox tests queue by dotted path (tests.outbox.helpers.<name>)."""

import threading
import time

CALLS: list[dict] = []
_lock = threading.Lock()
FAIL_TIMES = {"n": 0}


def record(**kwargs) -> None:
    with _lock:
        CALLS.append(kwargs)


def slow_record(**kwargs) -> None:
    time.sleep(0.2)  # long enough for a second runner to try to claim the same row meanwhile
    record(**kwargs)


def flaky(**kwargs) -> None:
    """Raises the first FAIL_TIMES["n"] times it is called."""
    if FAIL_TIMES["n"] > 0:
        FAIL_TIMES["n"] -= 1
        raise ConnectionRefusedError("SMTP server not answering")
    record(**kwargs)
