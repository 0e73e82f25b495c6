"""Every atomic pending-flow store against its real backend: single use under threads, outages.

Marked ``integration``: real servers (PostgreSQL, MariaDB, memcached, Redis).
"""

from __future__ import annotations

import concurrent.futures
import threading
from pathlib import Path

import pytest

from flask_google_flow.ext.errors import SessionUnavailable
from flask_google_flow.ext.pending import (
    MemcachedPendingFlowStore,
    PendingFlowStore,
    SqlPendingFlowStore,
)
from tests.integration.harness import free_port

from . import servers
from .conftest import sql_url

pytestmark = pytest.mark.integration

THREADS = 12


def _claim_race(store: PendingFlowStore, key: str) -> list[str | None]:
    """THREADS threads pop one key at the same moment."""
    barrier = threading.Barrier(THREADS)

    def claim(_n: int) -> str | None:
        barrier.wait(10)
        return store.pop(key)

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(claim, range(THREADS)))


def _check_store(store: PendingFlowStore) -> None:
    store.put("k1", '{"u":"/é"}', 60)
    assert store.pop("k1") == '{"u":"/é"}'
    assert store.pop("k1") is None
    store.put("k2", "v", 60)
    store.delete("k2")
    assert store.pop("k2") is None
    store.delete("never-there")
    store.put("k3", "one", 60)
    store.put("k3", "two", 60)  # put replaces, on every backend
    assert store.pop("k3") == "two"
    for round_ in range(5):
        key = f"race{round_}"
        store.put(key, "the-value", 60)
        results = _claim_race(store, key)
        assert results.count("the-value") == 1, results
        assert results.count(None) == THREADS - 1
    _check_get_and_add(store)


def _check_get_and_add(store: PendingFlowStore) -> None:
    """``get`` reads without claiming; ``add`` creates once, even when raced (RISC's needs)."""
    assert store.get("absent") is None
    store.put("g", "kept", 60)
    assert store.get("g") == "kept"
    assert store.get("g") == "kept"  # not claimed
    assert store.pop("g") == "kept"
    assert store.add("a", "first", 60) is True
    assert store.add("a", "second", 60) is False
    assert store.get("a") == "first"
    barrier = threading.Barrier(THREADS)

    def add(n: int) -> bool:
        barrier.wait(10)
        return store.add("a-race", f"v{n}", 60)

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        won = list(pool.map(add, range(THREADS)))
    assert won.count(True) == 1, won


# -- SQL -----------------------------------------------------------------------------


@pytest.fixture(params=servers.SQL_KINDS)
def sql_engine(request: pytest.FixtureRequest, tmp_path: Path):
    import sqlalchemy as sa

    url = sql_url(request.param, tmp_path)
    options = {"connect_args": {"timeout": 30}} if request.param == "sqlite" else {"pool_size": 16}
    engine = sa.create_engine(url, **options)
    table = servers.unique_name("gf_pending")
    yield engine, table
    servers.drop_tables(url, table)
    engine.dispose()


@pytest.mark.parametrize("returning", [None, False], ids=["returning", "checked-delete"])
def test_sql_store_claims_once(sql_engine, returning) -> None:
    engine, table = sql_engine
    store = SqlPendingFlowStore(engine, table_name=table, key_prefix="p:", use_returning=returning)
    _check_store(store)


def test_sql_dialects_use_delete_returning(sql_engine) -> None:
    # PostgreSQL, SQLite >= 3.35 and MariaDB >= 10.5 have it: one statement claims.
    engine, _table = sql_engine
    with engine.connect() as connection:
        assert connection.dialect.delete_returning


def test_sql_store_creates_its_table_once_from_several_processes_at_once(sql_engine) -> None:
    engine, table = sql_engine
    stores = [SqlPendingFlowStore(engine, table_name=table) for _ in range(6)]
    barrier = threading.Barrier(len(stores))

    def create(store: SqlPendingFlowStore) -> None:
        barrier.wait(10)
        store.create_table()

    with concurrent.futures.ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(create, stores))
    stores[0].put("k", "v", 60)
    assert stores[1].pop("k") == "v"


def test_sql_store_expiry_and_garbage_collection(sql_engine) -> None:
    engine, table = sql_engine
    now = [1_700_000_000.0]
    store = SqlPendingFlowStore(engine, table_name=table, clock=lambda: now[0])
    store.put("old", "v", 10)
    store.put("new", "v", 100)
    now[0] += 10
    assert store.collect_garbage() == 1
    assert store.pop("new") == "v"
    store.put("k", "v", 10)
    now[0] += 10
    assert store.pop("k") is None  # expired rows are never returned


def test_sql_store_recreates_a_dropped_table(sql_engine) -> None:
    engine, table = sql_engine
    store = SqlPendingFlowStore(engine, table_name=table)
    store.put("k", "v", 60)
    servers.drop_tables(str(engine.url.render_as_string(hide_password=False)), table)
    with pytest.raises(SessionUnavailable):
        store.pop("k")
    store.put("k", "v", 60)  # checked again, created again
    assert store.pop("k") == "v"


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_sql_server_down_is_session_unavailable(kind: str, tmp_path: Path) -> None:
    import sqlalchemy as sa

    scheme = "postgresql+psycopg://postgres" if kind == "postgresql" else "mysql+pymysql://root"
    sql_url(kind, tmp_path)  # the driver is installed
    engine = sa.create_engine(
        f"{scheme}@127.0.0.1:{free_port()}/x", connect_args={"connect_timeout": 2}
    )
    store = SqlPendingFlowStore(engine)
    for call in (lambda: store.put("k", "v", 1), lambda: store.pop("k"), lambda: store.delete("k")):
        with pytest.raises(SessionUnavailable) as info:
            call()
        assert info.value.code == 503


def test_sql_store_through_a_database_restart(postgres_cluster) -> None:
    """Down: every call is SessionUnavailable, quickly. Back: the next call works."""
    import sqlalchemy as sa

    engine = sa.create_engine(
        postgres_cluster.url, pool_pre_ping=True, connect_args={"connect_timeout": 2}
    )
    store = SqlPendingFlowStore(engine)
    store.put("before", "v", 60)
    postgres_cluster.stop()
    for call in (lambda: store.put("k", "v", 60), lambda: store.pop("before")):
        with pytest.raises(SessionUnavailable):
            call()
    postgres_cluster.start()
    assert store.pop("before") == "v"  # the record survived; stale connections replaced
    store.put("k", "v", 60)
    assert store.pop("k") == "v"
    engine.dispose()


def test_sql_store_table_created_when_the_database_comes_up(postgres_cluster) -> None:
    # The app may start while the database is down.
    import sqlalchemy as sa

    postgres_cluster.stop()
    engine = sa.create_engine(postgres_cluster.url, connect_args={"connect_timeout": 2})
    store = SqlPendingFlowStore(engine)
    with pytest.raises(SessionUnavailable):
        store.create_table()
    postgres_cluster.start()
    store.put("k", "v", 60)
    assert store.pop("k") == "v"
    engine.dispose()


def test_sql_pool_timeout_is_session_unavailable(tmp_path: Path) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(
        sql_url("postgresql", tmp_path), pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    store = SqlPendingFlowStore(engine, table_name=servers.unique_name("gf_pending"))
    store.create_table()
    try:
        with engine.connect(), pytest.raises(SessionUnavailable):
            store.put("k", "v", 60)  # the pool's only connection is taken
    finally:
        servers.drop_tables(servers.POSTGRES_URL, store.table.name)
        engine.dispose()


# -- memcached -----------------------------------------------------------------------


def test_memcached_store_claims_once(memcached_server) -> None:
    store = MemcachedPendingFlowStore(servers.memcached_client(memcached_server.address))
    _check_store(store)


def test_memcached_store_never_trusts_noreply(memcached_server) -> None:
    # pymemcache's default_noreply=True would answer True for any delete.
    from pymemcache.client.base import Client

    host, port = memcached_server.address.split(":")
    client = Client((host, int(port)), default_noreply=True)
    assert client.delete("missing-key") is True  # what the default does
    store = MemcachedPendingFlowStore(client)
    store.put("k", "v", 60)
    assert store.pop("k") == "v"
    assert store.pop("k") is None
    assert store.pop("missing-key") is None


def test_memcached_store_values_with_a_pickle_serde(memcached_server) -> None:
    from pymemcache import serde
    from pymemcache.client.base import PooledClient

    host, port = memcached_server.address.split(":")
    client = PooledClient((host, int(port)), serde=serde.pickle_serde)
    store = MemcachedPendingFlowStore(client)
    store.put("k", '{"u":"/é"}', 60)
    assert store.pop("k") == '{"u":"/é"}'


def test_memcached_down_and_restarted(memcached_server) -> None:
    client = servers.memcached_client(memcached_server.address)
    store = MemcachedPendingFlowStore(client)
    store.put("k", "v", 60)
    memcached_server.stop()
    for call in (lambda: store.put("k", "v", 1), lambda: store.pop("k"), lambda: store.delete("k")):
        with pytest.raises(SessionUnavailable):
            call()
    memcached_server.start()  # same port: the client reconnects by itself
    store.put("k", "v", 60)
    assert store.pop("k") == "v"


def test_memcached_full_write_is_refused(memcached_server) -> None:
    # A value over memcached's item size limit is answered SERVER_ERROR: a failed write.
    store = MemcachedPendingFlowStore(servers.memcached_client(memcached_server.address))
    with pytest.raises(SessionUnavailable):
        store.put("k", "x" * (2 * 1024 * 1024), 60)


def test_cachelib_memcached_with_noreply_is_refused(memcached_server) -> None:
    from cachelib import MemcachedCache
    from pymemcache.client.base import Client

    from flask_google_flow.ext.pending import CacheLibPendingFlowStore, NoReplyCacheError

    host, port = memcached_server.address.split(":")
    noreply = CacheLibPendingFlowStore(MemcachedCache(Client((host, int(port)))))
    with pytest.raises(NoReplyCacheError, match="default_noreply=False"):
        noreply.put("k", "v", 60)
    replying = CacheLibPendingFlowStore(
        MemcachedCache(Client((host, int(port)), default_noreply=False))
    )
    replying.check_replies()
    replying.put("k", "v", 60)
    assert replying.pop("k") == "v"
    assert replying.pop("k") is None
