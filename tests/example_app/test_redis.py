"""The example app on Redis sessions (``REDIS_URL``), and its SQLite store under concurrency."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import redis
from google.oauth2.credentials import Credentials

from example_app import db
from tests.integration.harness import free_port


def _assert_clean_503(response) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    assert response.headers["Cache-Control"] == "no-store"
    assert "temporarily unavailable" in page
    assert "Traceback" not in page and "redis" not in page.lower()
    assert 'id="try-again"' not in page  # no "Sign in again" while sign-in cannot work


def test_the_redis_client_fails_fast(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/2")
    client = app.config["SESSION_REDIS"]
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] <= 1.0 and kwargs["socket_timeout"] <= 2.0
    started = time.monotonic()
    with pytest.raises(redis.exceptions.ConnectionError):
        client.ping()
    assert time.monotonic() - started < 3.0


def test_redis_unreachable_gives_the_friendly_503_page(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = app.test_client()
    client.set_cookie("session", "some-session-id")
    for path in ("/", "/profile", "/authorize"):
        _assert_clean_503(client.get(path))


@pytest.mark.integration
def test_sign_in_with_sessions_in_a_live_redis(make_app, google_login, redis_server):
    app = make_app(REDIS_URL=redis_server.url)
    client = app.test_client()
    response = google_login(client, account="alice@example.com", next="/profile")
    assert response.headers["Location"] == "/profile"
    page = client.get("/profile").get_data(as_text=True)
    assert '<td id="claim-email">alice@example.com</td>' in page
    assert db.store_count(app=app) == 1

    # The session lives in Redis, not in the cookie...
    cookie = client.get_cookie("session").value
    keys = redis.Redis.from_url(redis_server.url).keys("session:*")
    assert f"session:{cookie}".encode() in keys
    # ...so another worker (another app on the same Redis and database) sees it.
    other = make_app(REDIS_URL=redis_server.url).test_client()
    other.set_cookie("session", cookie)
    assert "alice@example.com" in other.get("/profile").get_data(as_text=True)

    # Redis stops: a clean 503, quickly. It comes back (empty): sign in again.
    redis_server.stop()
    started = time.monotonic()
    _assert_clean_503(client.get("/profile"))
    assert time.monotonic() - started < 3.0
    redis_server.start()
    response = client.get("/profile")
    assert response.status_code == 302 and "/authorize" in response.headers["Location"]


def test_the_database_is_in_wal_mode(app):
    with sqlite3.connect(app.config["EXAMPLE_DATABASE"]) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_concurrent_stores_from_many_connections_are_all_kept(app):
    """Threads stand in for worker processes: each store() is its own connection."""
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        barrier.wait(5)
        try:
            for i in range(per_thread):
                credentials = Credentials(token=f"t{n}-{i}", scopes=["openid"])
                # The same few subs from every thread: concurrent upserts of one row.
                with app.app_context():
                    db.store(credentials, {"sub": f"sub{i % 5}", "email": f"u{i % 5}@x"})
        except BaseException as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(60)
    assert not errors, errors[:3]
    assert db.store_count(app=app) == threads * per_thread
    assert db.store_count("sub0", app=app) == threads * per_thread // 5
