import pytest


@pytest.fixture(autouse=True)
def fresh_hours_boundaries():
    """hours_boundary is memoised for the process: each test computes its own boundaries, so a
    mutant of the spring-gap code behind it is run, not answered from an earlier test's cache
    (mutmut forks every mutant's run from a process that ran the suite once)."""
    from booking import availability

    availability.hours_boundary.cache_clear()
