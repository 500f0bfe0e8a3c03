"""The Rasa client over several replicas: round robin, and the next replica when one refuses."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.rasa_client import WEBHOOK_PATH, HealthProbe, RasaClient, RasaUnavailable, ReplicaTransport

pytestmark = pytest.mark.asyncio

A, B = "http://rasa-a:5005", "http://rasa-b:5006"


class Replicas:
    """Fake replicas: records which host got each request; `down` ones refuse the connection."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.refused: list[str] = []
        self.down: set[str] = set()
        self.slow: set[str] = set()
        self.now = 1000.0

    def answer(self, request: httpx.Request) -> httpx.Response:
        replica = f"{request.url.scheme}://{request.url.netloc.decode()}"
        assert request.headers["host"] == request.url.netloc.decode()
        if replica in self.down:
            self.refused.append(replica)
            raise httpx.ConnectError("connection refused", request=request)
        if replica in self.slow:
            raise httpx.ReadTimeout("no answer yet", request=request)
        self.seen.append((replica, request.url.path))
        if request.method == "GET":
            return httpx.Response(200, text="Hello from Rasa")
        sender = json.loads(request.content)["sender"]
        return httpx.Response(200, json=[{"recipient_id": sender, "text": replica}])

    def client_with_clock(self) -> RasaClient:
        transport = ReplicaTransport([A, B], inner=httpx.MockTransport(self.answer), clock=self.clock)
        return RasaClient(A, transport=transport)

    def clock(self) -> float:
        return self.now


@pytest.fixture
def replicas() -> Replicas:
    return Replicas()


def client_over(replicas: Replicas) -> RasaClient:
    """RasaClient as the bot builds it (comma-separated RASA_URL), on the fake replicas."""
    return RasaClient(f"{A}, {B}/", transport=httpx.MockTransport(replicas.answer))


async def test_turns_are_spread_over_the_replicas(replicas: Replicas) -> None:
    rasa = client_over(replicas)
    for turn in range(4):
        replies = await rasa.send(f"sender-{turn}", "/start", {})
        assert replies[0]["recipient_id"] == f"sender-{turn}"  # the body went along unchanged
    assert replicas.seen == [(A, WEBHOOK_PATH), (B, WEBHOOK_PATH)] * 2
    await rasa.aclose()


async def test_a_replica_that_refuses_is_skipped_until_it_may_be_back(replicas: Replicas) -> None:
    rasa = replicas.client_with_clock()
    replicas.down = {A}
    await rasa.send("s", "one", {})  # A refused: the same message went to B at once
    assert replicas.seen == [(B, WEBHOOK_PATH)]
    for _ in range(3):
        await rasa.send("s", "more", {})  # A is not tried first while it is taken for down
    assert [host for host, _ in replicas.seen] == [B] * 4
    assert replicas.refused == [A]
    replicas.down = set()
    replicas.now += 11  # after REPLICA_DOWN_FOR_S it gets its turn again
    await rasa.send("s", "a", {})
    await rasa.send("s", "b", {})
    assert {host for host, _ in replicas.seen[-2:]} == {A, B}
    await rasa.aclose()


@pytest.mark.parametrize(
    ("broken", "reached"),
    [
        pytest.param("down", False, id="every replica refuses: surely not delivered"),
        pytest.param("slow", True, id="a replica took it and timed out: not sent again"),
    ],
)
async def test_failures_keep_their_meaning(replicas: Replicas, broken: str, reached: bool) -> None:
    rasa = client_over(replicas)
    setattr(replicas, broken, {A, B})
    with pytest.raises(RasaUnavailable) as failure:
        await rasa.send("s", "hello", {})
    assert failure.value.reached is reached
    assert replicas.seen == []
    await rasa.aclose()


async def test_a_timeout_is_not_retried_on_the_next_replica(replicas: Replicas) -> None:
    rasa = client_over(replicas)
    replicas.slow = {A}
    with pytest.raises(RasaUnavailable):
        await rasa.send("s", "hello", {})  # A may be processing it: B must not get it too
    assert replicas.seen == []
    await rasa.aclose()


@pytest.mark.parametrize(("down", "healthy"), [(set(), True), ({A}, True), ({B}, True), ({A, B}, False)])
async def test_healthy_while_one_replica_answers(replicas: Replicas, down: set[str], healthy: bool) -> None:
    rasa = client_over(replicas)
    replicas.down = down
    assert await rasa.is_healthy() is healthy
    await rasa.aclose()


async def test_one_url_talks_to_that_server_only(replicas: Replicas) -> None:
    rasa = RasaClient(A, transport=httpx.MockTransport(replicas.answer))
    await rasa.send("s", "one", {})
    await rasa.send("s", "two", {})
    assert [host for host, _ in replicas.seen] == [A, A]
    await rasa.aclose()


async def test_a_healthy_answer_is_believed_for_a_while_an_unhealthy_one_never() -> None:
    asked: list[int] = []
    status = {"code": 200}

    def health(request: httpx.Request) -> httpx.Response:
        asked.append(status["code"])
        return httpx.Response(status["code"])

    probe = HealthProbe("http://actions.invalid/health", httpx.MockTransport(health), healthy_for_s=60)
    assert await probe.is_healthy() and await probe.is_healthy()
    assert asked == [200]  # the second answer came from the first

    fresh = HealthProbe("http://actions.invalid/health", httpx.MockTransport(health))  # believed for 0 s
    status["code"] = 503
    assert not await fresh.is_healthy() and not await fresh.is_healthy()
    status["code"] = 200
    assert await fresh.is_healthy()
    assert asked == [200, 503, 503, 200]  # down is asked again each time, and seen to be back
    await probe.aclose()
    await fresh.aclose()
