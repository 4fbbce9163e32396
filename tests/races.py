"""The race tests' one harness: run calls at the same moment, in real threads.

    results = race(*calls)               # what each call returned, or the exception it raised, in order
    won, refused = split(results, SlotTaken)

Each call runs in its own thread with its own database connection (Django keeps
one per thread), so on PostgreSQL the calls really contend for row locks and
constraints, and on SQLite for the write lock. A barrier releases all the
threads together; each closes its connections when done, so the test database
can be flushed or dropped afterwards. Tests using it need
`django_db(transaction=True)`: the threads cannot see a test's uncommitted rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections

BARRIER_SECONDS = 30  # for every thread to be ready
JOIN_SECONDS = 120  # for all of them to finish


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls together in threads; return, in order, each one's result or the exception it raised.

    Fails (AssertionError) if a thread is still running after JOIN_SECONDS.
    """
    assert calls, "race() needs at least one call"
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=BARRIER_SECONDS)
            results[index] = call()
        except Exception as raised:  # noqa: BLE001 - handed back to the test, which asserts on it
            results[index] = raised
        finally:
            connections.close_all()  # this thread's connections only

    threads = [threading.Thread(target=run, args=(i, call), name=f"race-{i}") for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_SECONDS)
    hung = [thread.name for thread in threads if thread.is_alive()]
    assert not hung, f"racing threads still running after {JOIN_SECONDS} s: {hung}"
    return results


def split(results: list[object], *refusals: type[BaseException]) -> tuple[list[object], list[BaseException]]:
    """(what the calls returned, the expected refusals they raised), each in call order.

    Any other exception fails the test, with every result shown.
    """
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, refusals)]
    assert not unexpected, f"unexpected exceptions in the race: {results!r}"
    returned = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    return returned, refused
