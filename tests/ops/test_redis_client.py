"""config.cache: the Redis cache keeps one client per connection pool, and reads and writes as Django's does."""

import os

import pytest

from config.cache import FailSoftRedisCache, ReusingRedisCacheClient


@pytest.fixture
def redis_cache():
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("CI") or os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("needs Redis (REDIS_URL)")
        pytest.skip("needs Redis (REDIS_URL)")
    cache = FailSoftRedisCache(url, {"KEY_PREFIX": "test-redis-client"})
    yield cache
    cache.clear()


def test_one_client_serves_every_call_and_values_round_trip(redis_cache):
    client = redis_cache._cache
    assert isinstance(client, ReusingRedisCacheClient)
    assert client.get_client(write=True) is client.get_client(write=False) is client.get_client("any key")
    redis_cache.set("k", {"n": 1}, 30)
    assert redis_cache.get("k") == {"n": 1}
    assert redis_cache.add("k", "other") is False
    assert redis_cache.add("n", 0) is True and redis_cache.incr("n", 2) == 2
    assert redis_cache.get_many(["k", "missing"]) == {"k": {"n": 1}}
    redis_cache.delete("k")
    assert redis_cache.get("k", "gone") == "gone"


def test_two_servers_read_from_the_replica_and_write_to_the_first(redis_cache):
    url = os.environ["REDIS_URL"]
    client = ReusingRedisCacheClient([url, url])
    writer, reader = client.get_client(write=True), client.get_client(write=False)
    assert writer is not reader  # a client per pool: the first server's, the replica's
    assert client.get_client(write=True) is writer and client.get_client(write=False) is reader
