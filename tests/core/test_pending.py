"""Pending flows: records bound to the session, single use, expiry, cap, backends."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from cachelib import FileSystemCache, SimpleCache
from flask import Flask, session
from redis.backoff import NoBackoff
from redis.retry import Retry

from flask_google_flow.ext.errors import SessionUnavailable, UnknownStateError
from flask_google_flow.ext.pending import (
    BINDING_SESSION_KEY,
    PENDING_SESSION_KEY,
    CacheLibPendingFlowStore,
    FilePendingFlowStore,
    PendingFlow,
    PendingFlows,
    PendingFlowStore,
    RedisPendingFlowStore,
    SessionPendingFlowStore,
    SqlPendingFlowStore,
    store_for_session_interface,
)
from tests.conftest import require

SECRET = "app-secret-key"
REDIS_URL = "redis://127.0.0.1:6379/15"


class FakeSession(dict):
    """A server-side session: a dict with a ``sid``."""

    def __init__(self, sid: str | None = None, *args: Any) -> None:
        super().__init__(*args)
        if sid is not None:
            self.sid = sid


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_flow(**overrides: Any) -> PendingFlow:
    values: dict[str, Any] = {
        "code_verifier": "v" * 43,
        "nonce": "n" * 22,
        "next_url": "/",
        "extra_scopes": (),
        "redirect_uri": "http://127.0.0.1:5000/oauth2callback",
    }
    values.update(overrides)
    return PendingFlow(**values)


# -- PendingFlow ---------------------------------------------------------------


def test_typical_record_is_small() -> None:
    record = make_flow(expires_at=1_700_000_600).to_json()
    assert len(record.encode()) <= 200, len(record)
    assert "google" not in record  # short keys


def test_unknown_keys_of_older_records_are_ignored() -> None:
    flow = PendingFlow.from_json('{"v":"a","n":"b","u":"/","r":"x","e":5,"c":1,"x":{"a":"b"}}')
    assert (flow.code_verifier, flow.next_url, flow.expires_at) == ("a", "/", 5)


def test_json_round_trip() -> None:
    flow = make_flow(
        next_url="/café?x=1",
        extra_scopes=("https://www.googleapis.com/auth/drive.readonly",),
        expires_at=123,
    )
    assert PendingFlow.from_json(flow.to_json()) == flow
    assert PendingFlow.from_json(flow.to_json().encode()) == flow
    plain = make_flow(expires_at=5)
    assert PendingFlow.from_json(plain.to_json()) == plain


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        "{}",
        '{"v":"a","n":"b","u":"/","r":"x"}',
        '{"v":"a","n":"b","u":"/","r":"x","e":"5"}',
        '{"v":"a","n":"b","u":"/","r":"x","e":true}',
        '{"v":1,"n":"b","u":"/","r":"x","e":5}',
        '{"v":"a","n":"b","u":"/","r":"x","e":5,"s":"openid"}',
        '{"v":"a","n":"b","u":"/","r":"x","e":5,"s":[1]}',
    ],
)
def test_invalid_records(text: str) -> None:
    with pytest.raises(ValueError):
        PendingFlow.from_json(text)


# -- stores ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, retry=Retry(NoBackoff(), 0))
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        require(False, "Redis is not running at 127.0.0.1:6379", "start redis-server")
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client: redis.Redis) -> Iterator[str]:
    prefix = f"test-google-flow-{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_client.scan_iter(match=prefix + "*"))
    if keys:
        redis_client.delete(*keys)


StoreFactory = Callable[[], PendingFlowStore]


@pytest.fixture(
    params=["simple", "files", "sqlite", pytest.param("redis", marks=pytest.mark.integration)]
)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    kind = request.param
    if kind == "simple":
        cache = SimpleCache()
        return lambda: CacheLibPendingFlowStore(cache)
    if kind == "files":
        return lambda: FilePendingFlowStore(tmp_path / "pending")
    if kind == "sqlite":
        sqlalchemy = pytest.importorskip("sqlalchemy", reason="SQLAlchemy is in the test extra")
        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'pending.sqlite3'}")
        return lambda: SqlPendingFlowStore(engine)
    client = request.getfixturevalue("redis_client")
    prefix = request.getfixturevalue("redis_prefix")
    return lambda: RedisPendingFlowStore(client, key_prefix=prefix)


def test_store_put_pop_delete(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.put("k1", '{"a": "é"}', 60)
    assert store.pop("k1") == '{"a": "é"}'
    assert store.pop("k1") is None
    store.put("k2", "value", 60)
    store.delete("k2")
    assert store.pop("k2") is None
    store.delete("never-there")
    assert store.pop("never-there") is None


def test_store_pop_is_atomic_under_threads(store_factory: StoreFactory) -> None:
    store = store_factory()
    for round_ in range(5):
        key = f"race-{round_}"
        store.put(key, "the-value", 60)
        barrier = threading.Barrier(12)
        results: list[str | None] = []
        lock = threading.Lock()

        def worker(
            key: str = key,
            barrier: threading.Barrier = barrier,
            results: list[str | None] = results,
            lock: threading.Lock = lock,
        ) -> None:
            barrier.wait()
            value = store.pop(key)
            with lock:
                results.append(value)

        threads = [threading.Thread(target=worker) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count("the-value") == 1, results
        assert results.count(None) == 11


class BrokenCache:
    def set(self, *args: Any, **kwargs: Any) -> bool:
        raise OSError("disk on fire")

    get = delete = set


def test_cachelib_oserror_is_session_unavailable() -> None:
    store = CacheLibPendingFlowStore(BrokenCache())
    for call in (lambda: store.put("k", "v", 1), lambda: store.pop("k"), lambda: store.delete("k")):
        with pytest.raises(SessionUnavailable):
            call()


@pytest.fixture
def dead_redis() -> redis.Redis:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    # redis-py 8 retries connection errors with backoff by default: not here.
    return redis.Redis(
        host="127.0.0.1", port=port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )


def test_redis_down_is_session_unavailable(dead_redis: redis.Redis) -> None:
    store = RedisPendingFlowStore(dead_redis)
    for call in (lambda: store.put("k", "v", 1), lambda: store.pop("k"), lambda: store.delete("k")):
        with pytest.raises(SessionUnavailable) as info:
            call()
        assert info.value.code == 503


def test_redis_down_through_pending_flows(dead_redis: redis.Redis) -> None:
    flows = PendingFlows(RedisPendingFlowStore(dead_redis))
    with pytest.raises(SessionUnavailable):
        flows.begin(FakeSession("sid"), make_flow(), secret=SECRET)
    with pytest.raises(SessionUnavailable):
        flows.consume(FakeSession("sid"), "some-state", secret=SECRET)


@pytest.mark.integration
def test_redis_record_has_a_ttl_and_the_prefix(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    store = RedisPendingFlowStore(redis_client, key_prefix=redis_prefix)
    store.put("abc", "v", 600)
    assert 590 < redis_client.ttl(redis_prefix + "abc") <= 600


class NoGetdel:
    """A Redis client of a server without GETDEL (Redis < 6.2)."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self.getdel_calls = 0

    def getdel(self, key: str) -> Any:
        self.getdel_calls += 1
        raise redis.exceptions.ResponseError("unknown command 'GETDEL'")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.mark.integration
def test_redis_without_getdel_falls_back_to_multi(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    client = NoGetdel(redis_client)
    store = RedisPendingFlowStore(client, key_prefix=redis_prefix)
    store.put("a", "1", 60)
    store.put("b", "2", 60)
    assert store.pop("a") == "1"
    assert store.pop("a") is None
    assert store.pop("b") == "2"
    assert client.getdel_calls == 1  # remembered after the first refusal


@pytest.mark.integration
def test_redis_other_response_errors_propagate(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    class Wrong(NoGetdel):
        def getdel(self, key: str) -> Any:
            raise redis.exceptions.ResponseError("WRONGTYPE Operation against a key")

    store = RedisPendingFlowStore(Wrong(redis_client), key_prefix=redis_prefix)
    with pytest.raises(redis.exceptions.ResponseError):
        store.pop("a")


@pytest.mark.integration
def test_redis_decoded_client(redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    store = RedisPendingFlowStore(client, key_prefix=redis_prefix)
    store.put("a", "välue", 60)
    assert store.pop("a") == "välue"
    client.close()


# -- the session fallback store ------------------------------------------------


def test_session_store_inside_a_flask_request() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    store = SessionPendingFlowStore()
    with app.test_request_context():
        store.put("k", "v", 60)
        assert "_google_flow_records" in session
        assert store.pop("k") == "v"
        assert store.pop("k") is None
        assert "_google_flow_records" not in session


def test_session_store_ttl_garbage_collection_and_delete() -> None:
    data: dict[str, Any] = {}
    clock = Clock()
    store = SessionPendingFlowStore(lambda: data, clock=clock)
    store.put("old", "1", 10)
    clock.now += 11
    store.put("new", "2", 10)
    assert set(data["_google_flow_records"]) == {"new"}
    store.delete("new")
    store.delete("missing")
    assert data == {}
    data["_google_flow_records"] = {"bad": "not a list"}
    assert store.pop("bad") is None
    data["_google_flow_records"] = "garbage"
    assert store.pop("x") is None
    store.put("x", "1", 10)
    assert store.pop("x") == "1"


# -- store_for_session_interface -------------------------------------------------


def _app_with(**config: Any) -> Flask:
    from flask_session import Session

    app = Flask(__name__)
    app.config.update(config)
    Session(app)
    return app


@pytest.mark.integration
def test_store_for_redis_interface(redis_client: redis.Redis) -> None:
    app = _app_with(SESSION_TYPE="redis", SESSION_REDIS=redis_client)
    store = store_for_session_interface(app.session_interface, key_prefix="p:")
    assert isinstance(store, RedisPendingFlowStore)
    assert store.client is redis_client and store.key_prefix == "p:"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_store_for_filesystem_and_cachelib_interfaces(tmp_path: Path) -> None:
    # The filesystem backends get the file store, in its own folder.
    app = _app_with(SESSION_TYPE="filesystem", SESSION_FILE_DIR=str(tmp_path / "sessions"))
    store = store_for_session_interface(app.session_interface, directory=tmp_path / "pending")
    assert isinstance(store, FilePendingFlowStore)
    assert store.directory == str(tmp_path / "pending")
    cache = FileSystemCache(str(tmp_path / "sessions2"))
    app = _app_with(SESSION_TYPE="cachelib", SESSION_CACHELIB=cache)
    store = store_for_session_interface(app.session_interface, directory=tmp_path / "p2")
    assert isinstance(store, FilePendingFlowStore)
    with pytest.raises(ValueError, match="directory"):
        store_for_session_interface(app.session_interface)
    # Other cachelib caches: the checked get + delete claim.
    cache = SimpleCache()
    app = _app_with(SESSION_TYPE="cachelib", SESSION_CACHELIB=cache)
    store = store_for_session_interface(app.session_interface)
    assert isinstance(store, CacheLibPendingFlowStore) and store.cache is cache
    assert store.key_prefix == "google-flow:pending:"


def test_cachelib_store_refuses_a_filesystem_cache(tmp_path: Path) -> None:
    # FileSystemCache.delete() answers True for a missing file: no single use.
    with pytest.raises(TypeError, match="FilePendingFlowStore"):
        CacheLibPendingFlowStore(FileSystemCache(str(tmp_path)))


def test_store_for_other_interfaces() -> None:
    assert isinstance(
        store_for_session_interface(Flask(__name__).session_interface), SessionPendingFlowStore
    )
    assert isinstance(store_for_session_interface(object()), SessionPendingFlowStore)


# -- PendingFlows ------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flows(store_factory: StoreFactory, clock: Clock) -> PendingFlows:
    return PendingFlows(store_factory(), ttl=600, max_per_session=3, clock=clock)


def test_begin_and_consume(flows: PendingFlows) -> None:
    sess = FakeSession("sid-1")
    flow = make_flow(next_url="/profile", extra_scopes=("scope-a",))
    state = flows.begin(sess, flow, secret=SECRET)
    assert len(state) == 43
    assert sess[BINDING_SESSION_KEY]
    assert len(sess[PENDING_SESSION_KEY]) == 1
    got = flows.consume(sess, state, secret=SECRET)
    assert got.next_url == "/profile" and got.extra_scopes == ("scope-a",)
    assert got.code_verifier == flow.code_verifier
    assert got.expires_at == int(flows.clock()) + 600
    assert sess[PENDING_SESSION_KEY] == []
    assert flow.expires_at == 0  # the caller's object is not modified


def test_replay_is_refused(flows: PendingFlows) -> None:
    sess = FakeSession("sid-1")
    state = flows.begin(sess, make_flow(), secret=SECRET)
    flows.consume(sess, state, secret=SECRET)
    with pytest.raises(UnknownStateError) as info:
        flows.consume(sess, state, secret=SECRET)
    assert info.value.code == 400


def test_several_tabs_of_one_session(flows: PendingFlows) -> None:
    sess = FakeSession("sid-1")
    states = [flows.begin(sess, make_flow(next_url=f"/tab{i}"), secret=SECRET) for i in range(3)]
    for i, state in reversed(list(enumerate(states))):
        assert flows.consume(sess, state, secret=SECRET).next_url == f"/tab{i}"


def test_forged_state_from_another_session_is_refused(flows: PendingFlows) -> None:
    victim = FakeSession("victim-sid")
    attacker = FakeSession("attacker-sid")
    state = flows.begin(attacker, make_flow(), secret=SECRET)
    with pytest.raises(UnknownStateError):
        flows.consume(victim, state, secret=SECRET)
    # The attacker's record was not consumed by the failed attempt.
    assert flows.consume(attacker, state, secret=SECRET)


def test_unknown_and_malformed_states(flows: PendingFlows) -> None:
    sess = FakeSession("sid")
    flows.begin(sess, make_flow(), secret=SECRET)
    for state in (None, "", "x" * 600, "made-up", 42):
        with pytest.raises(UnknownStateError):
            flows.consume(sess, state, secret=SECRET)  # type: ignore[arg-type]


def test_expiry_uses_the_clock(flows: PendingFlows, clock: Clock) -> None:
    sess = FakeSession("sid")
    state = flows.begin(sess, make_flow(), secret=SECRET)
    clock.now += 599
    other = flows.begin(sess, make_flow(), secret=SECRET)
    assert flows.consume(sess, state, secret=SECRET)
    clock.now += 600
    with pytest.raises(UnknownStateError):
        flows.consume(sess, other, secret=SECRET)
    # Expired records are popped too: a later clock rewind cannot revive them.
    clock.now -= 600
    with pytest.raises(UnknownStateError):
        flows.consume(sess, other, secret=SECRET)


def test_expiry_boundary(flows: PendingFlows, clock: Clock) -> None:
    sess = FakeSession("sid")
    state = flows.begin(sess, make_flow(), secret=SECRET)
    clock.now = int(clock.now) + 600
    with pytest.raises(UnknownStateError):
        flows.consume(sess, state, secret=SECRET)


def test_cap_evicts_the_oldest(flows: PendingFlows) -> None:
    sess = FakeSession("sid")
    states = [flows.begin(sess, make_flow(next_url=f"/{i}"), secret=SECRET) for i in range(5)]
    assert len(sess[PENDING_SESSION_KEY]) == 3
    for state in states[:2]:
        with pytest.raises(UnknownStateError):
            flows.consume(sess, state, secret=SECRET)
    for i, state in enumerate(states[2:], start=2):
        assert flows.consume(sess, state, secret=SECRET).next_url == f"/{i}"


def test_expired_entries_leave_the_list(flows: PendingFlows, clock: Clock) -> None:
    sess = FakeSession("sid")
    flows.begin(sess, make_flow(), secret=SECRET)
    flows.begin(sess, make_flow(), secret=SECRET)
    clock.now += 601
    flows.begin(sess, make_flow(), secret=SECRET)
    assert len(sess[PENDING_SESSION_KEY]) == 1


def test_garbage_in_the_session_list_is_ignored(flows: PendingFlows) -> None:
    sess = FakeSession("sid", {PENDING_SESSION_KEY: "garbage"})
    state = flows.begin(sess, make_flow(), secret=SECRET)
    sess[PENDING_SESSION_KEY].append("junk")
    assert flows.consume(sess, state, secret=SECRET)
    sess[PENDING_SESSION_KEY] = [["x"], 5]
    flows.begin(sess, make_flow(), secret=SECRET)
    assert len(sess[PENDING_SESSION_KEY]) == 1


def test_corrupted_record_is_unknown_state(store_factory: StoreFactory, clock: Clock) -> None:
    store = store_factory()
    flows = PendingFlows(store, clock=clock)
    sess = FakeSession("sid")
    state = flows.begin(sess, make_flow(), secret=SECRET)
    key = PendingFlows._record_key(sess[BINDING_SESSION_KEY], state)
    store.put(key, "{not json", 60)
    with pytest.raises(UnknownStateError):
        flows.consume(sess, state, secret=SECRET)
    assert store.pop(key) is None  # popped anyway


def test_record_key_is_hashed_with_the_binding(store_factory: StoreFactory) -> None:
    store = store_factory()
    seen: list[str] = []
    original = store.put

    def spy(key: str, value: str, ttl: int) -> None:
        seen.append(key)
        original(key, value, ttl)

    store.put = spy  # type: ignore[method-assign]
    flows = PendingFlows(store)
    sess = FakeSession("sid")
    state = flows.begin(sess, make_flow(), secret=SECRET)
    import hashlib

    expected = hashlib.sha256(f"{sess[BINDING_SESSION_KEY]}:{state}".encode()).hexdigest()
    assert seen == [expected]
    assert state not in json.dumps(dict(sess))  # the state itself is not kept


def test_concurrent_first_requests_agree_on_the_binding(flows: PendingFlows) -> None:
    """Two requests of one session, both before any binding was saved."""
    first = FakeSession("shared-sid")
    second = FakeSession("shared-sid")
    state_a = flows.begin(first, make_flow(next_url="/a"), secret=SECRET)
    state_b = flows.begin(second, make_flow(next_url="/b"), secret=SECRET)
    assert first[BINDING_SESSION_KEY] == second[BINDING_SESSION_KEY]
    # Whichever copy of the session was saved last, both callbacks work.
    saved = FakeSession("shared-sid", dict(second))
    assert flows.consume(saved, state_a, secret=SECRET).next_url == "/a"
    assert flows.consume(saved, state_b, secret=SECRET).next_url == "/b"
    # Even a session that lost the binding entirely re-derives it.
    assert PendingFlows.binding(FakeSession("shared-sid"), SECRET) == first[BINDING_SESSION_KEY]


def test_binding_depends_on_the_secret_and_sid() -> None:
    a = PendingFlows.binding(FakeSession("sid"), SECRET)
    assert a != PendingFlows.binding(FakeSession("sid"), "other-secret")
    assert a != PendingFlows.binding(FakeSession("sid2"), SECRET)
    assert a == PendingFlows.binding(FakeSession("sid"), SECRET.encode())
    assert "sid" not in a and SECRET not in a


def test_binding_survives_session_id_rotation(flows: PendingFlows) -> None:
    sess = FakeSession("before-login")
    state = flows.begin(sess, make_flow(), secret=SECRET)
    sess.sid = "after-login"  # session.regenerate() after another tab's login
    assert flows.consume(sess, state, secret=SECRET)


def test_session_without_sid_gets_a_random_binding(flows: PendingFlows) -> None:
    a = FakeSession()
    b = FakeSession()
    state = flows.begin(a, make_flow(), secret=SECRET)
    flows.begin(b, make_flow(), secret=SECRET)
    assert a[BINDING_SESSION_KEY] != b[BINDING_SESSION_KEY]
    assert flows.consume(a, state)  # no secret needed once the binding is stored
    with pytest.raises(UnknownStateError):
        flows.consume(FakeSession(), state)


def test_consume_does_not_write_a_binding(flows: PendingFlows) -> None:
    sess = FakeSession("sid")
    with pytest.raises(UnknownStateError):
        flows.consume(sess, "state", secret=SECRET)
    assert BINDING_SESSION_KEY not in sess


def test_parallel_replayed_callbacks_succeed_once(flows: PendingFlows) -> None:
    sess = FakeSession("sid")
    state = flows.begin(sess, make_flow(), secret=SECRET)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def callback() -> None:
        copy = FakeSession("sid", dict(sess))
        barrier.wait()
        try:
            flows.consume(copy, state, secret=SECRET)
            result = "ok"
        except UnknownStateError:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=callback) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 9


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        PendingFlows(SessionPendingFlowStore(), ttl=0)
    with pytest.raises(ValueError):
        PendingFlows(SessionPendingFlowStore(), max_per_session=0)


def test_with_the_session_store_in_flask() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    flows = PendingFlows(SessionPendingFlowStore())
    client = app.test_client()

    @app.get("/begin")
    def begin() -> str:
        return flows.begin(session, make_flow(next_url="/x"), secret=app.secret_key)

    @app.get("/consume/<state>")
    def consume(state: str) -> str:
        return flows.consume(session, state, secret=app.secret_key).next_url

    state = client.get("/begin").get_data(as_text=True)
    assert client.get(f"/consume/{state}").get_data(as_text=True) == "/x"
    assert client.get(f"/consume/{state}").status_code == 400


def test_a_client_outage_leaves_a_store_operation_as_session_unavailable() -> None:
    from flask_google_flow.ext.pending.base import Outages

    outages = Outages(ConnectionError, TimeoutError)
    refused = ConnectionRefusedError("refused")
    with pytest.raises(SessionUnavailable) as info, outages:
        raise refused
    assert info.value.__cause__ is refused
    # Not an outage (a bug of the store's own): raised as it is.
    with pytest.raises(KeyError), outages:
        raise KeyError("k")
    with outages:
        value = 1
    assert value == 1
