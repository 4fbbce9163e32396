
import pytest

from config import cache as cache_module
from tests.shared import closed_port as shared_closed_port


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nothing listens on (tests.shared.closed_port)."""
    return shared_closed_port()


@pytest.fixture
def redis_down(settings, closed_port):
    """The shared cache points at a Redis that is not there (connection refused)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.SLOT_CACHE = True
    cache_module._last_warning = 0.0  # warn again in this test (it warns once a minute)
    return closed_port
