"""Script calls sent before their replies are read, against a real server."""

from __future__ import annotations

import pytest
import redis

from sentinel.queue import Queue
from sentinel.queue._fastcall import ScriptCaller

ECHO = "return {ARGV[1], redis.call('INCR', KEYS[1])}"


def caller_for(client: redis.Redis) -> ScriptCaller:
    return ScriptCaller(client, {"ECHO": client.register_script(ECHO)}, ["{t}:n"])


def test_unread_calls_share_one_connection(client: redis.Redis) -> None:
    caller = caller_for(client)
    caller.call("ECHO", ["load"])
    pending = [caller.send("ECHO", [f"call {n}"]) for n in range(20)]
    clients = client.client_list()
    assert len(clients) <= 2  # this connection and the one reading the list
    replies = [item.result() for item in reversed(pending)]
    assert [reply[0] for reply in reversed(replies)] == [f"call {n}" for n in range(20)]
    # The server ran them in the order they were sent.
    assert [int(reply[1]) for reply in reversed(replies)] == list(range(2, 22))


def test_reading_a_later_reply_reads_earlier_ones(client: redis.Redis) -> None:
    caller = caller_for(client)
    first = caller.send("ECHO", ["a"])
    second = caller.send("ECHO", ["b"])
    assert second.result()[0] == "b"
    assert first.result()[0] == "a"
    assert caller.call("ECHO", ["c"])[0] == "c"


def test_killed_connection_runs_unread_calls_again(client: redis.Redis) -> None:
    caller = caller_for(client)
    caller.call("ECHO", ["load"])
    pending = [caller.send("ECHO", [f"call {n}"]) for n in range(5)]
    pending[0].result()
    client.client_kill_filter(_type="normal", skipme=True)
    replies = [item.result()[0] for item in pending]
    assert replies == [f"call {n}" for n in range(5)]
    assert caller.call("ECHO", ["after"])[0] == "after"


def test_flushed_scripts_are_loaded_again(client: redis.Redis) -> None:
    caller = caller_for(client)
    caller.call("ECHO", ["load"])
    client.script_flush()
    pending = [caller.send("ECHO", [f"call {n}"]) for n in range(3)]
    assert [item.result()[0] for item in pending] == ["call 0", "call 1", "call 2"]


def test_queue_marks_sent_ahead_keep_order(queue: Queue) -> None:
    ids = queue.enqueue_many("qtest.echo", [{"i": i} for i in range(3)])
    jobs = queue.fetch_many("w1", 3)
    sent = [queue.send_ack_fetch("w1", 0, [(job, "null")]) for job in jobs]
    assert [batch.result().acked for batch in sent] == [[True], [True], [True]]
    assert queue.counts()["done"] == 3
    assert [job.id for job in jobs] == ids


class Label(str):
    """A str subclass, which takes the isinstance path of the encoder."""


def test_arguments_of_every_type_reach_the_script(client: redis.Redis) -> None:
    caller = caller_for(client)
    for value, expected in [
        ("text", "text"),
        ("naïve", "naïve"),
        (b"raw bytes", "raw bytes"),
        (7, "7"),
        (-(2**40), str(-(2**40))),
        (0.25, "0.25"),
        (Label("sub"), "sub"),
    ]:
        assert caller.call("ECHO", [value])[0] == expected


@pytest.mark.parametrize("value", [True, None, [1]], ids=["bool", "none", "list"])
def test_other_argument_types_are_rejected(client: redis.Redis, value: object) -> None:
    caller = caller_for(client)
    with pytest.raises(redis.DataError, match=type(value).__name__):
        caller.call("ECHO", [value])
