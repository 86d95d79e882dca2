"""igaming/redis_client.py's PipelinedRedis against the real Redis of the test settings."""

import asyncio
import uuid

import pytest
from django.conf import settings
from redis.exceptions import RedisError

from igaming.redis_client import PipelinedRedis, redis_client


def run(coroutine):
    return asyncio.run(coroutine)


def test_concurrent_commands_get_their_own_replies_in_order():
    prefix = f"test:pipelined:{uuid.uuid4().hex}"

    async def play():
        client = PipelinedRedis(settings.REDIS_URL)
        try:
            firsts = await asyncio.gather(*(client.execute_command("SET", f"{prefix}:{n}", n, "NX", "EX", 60)
                                            for n in range(100)))
            again = await client.execute_command("SET", f"{prefix}:7", 7, "NX", "EX", 60)
            values = await asyncio.gather(*(client.execute_command("GET", f"{prefix}:{n}") for n in range(100)))
            return firsts, again, values
        finally:
            await client.aclose()

    firsts, again, values = run(play())

    assert firsts == [b"OK"] * 100 and again is None
    assert values == [str(n).encode() for n in range(100)]
    assert redis_client().get(f"{prefix}:42") == b"42"  # the same database as the process's other clients


def test_an_error_reply_raises_and_the_connection_stays_usable():
    async def play():
        client = PipelinedRedis(settings.REDIS_URL)
        try:
            with pytest.raises(RedisError):
                await client.execute_command("NO-SUCH-COMMAND")
            return await client.ping()
        finally:
            await client.aclose()

    assert run(play()) is True


def test_a_lost_connection_fails_its_command_and_the_next_one_connects_again():
    name = f"pipelined-{uuid.uuid4().hex}"

    async def play():
        client = PipelinedRedis(settings.REDIS_URL)
        try:
            await client.execute_command("CLIENT", "SETNAME", name)
            killed = [entry for entry in redis_client().client_list() if entry.get("name") == name]
            redis_client().execute_command("CLIENT", "KILL", "ID", killed[0]["id"])
            # Killed while this loop did not run: the client still takes the connection for open.
            with pytest.raises(RedisError, match="lost"):
                await client.execute_command("PING")
            return await client.ping()
        finally:
            await client.aclose()

    assert run(play()) is True


def test_no_answer_in_time_is_an_error():
    async def play():
        client = PipelinedRedis(settings.REDIS_URL, timeout=0.2)
        try:
            with pytest.raises(RedisError, match="in time"):
                await client.execute_command("BLPOP", f"test:empty:{uuid.uuid4().hex}", 2)
            return await client.ping()
        finally:
            await client.aclose()

    assert run(play()) is True


def test_an_unreachable_server_is_an_error():
    async def play():
        client = PipelinedRedis("redis://127.0.0.1:1/0", timeout=1)
        with pytest.raises(RedisError, match="cannot connect"):
            await client.execute_command("PING")

    run(play())
