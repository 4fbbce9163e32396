import pytest

from tests.browser.helpers import desk_seed


@pytest.fixture
def desk_day():
    """tests.browser.helpers.desk_seed(): tomorrow, a follow-up, Amara Obi and Rita at reception."""
    return desk_seed()
