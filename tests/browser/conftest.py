import pytest

from tests.browser.desk import desk_seed


@pytest.fixture
def desk_day():
    """tests.browser.desk.desk_seed(): tomorrow, a follow-up, Amara Obi and Rita at reception."""
    return desk_seed()
