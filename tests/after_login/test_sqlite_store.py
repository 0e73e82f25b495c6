"""App-managed ``store``/``load``/``delete`` backed by a real SQLite database."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest
from google.oauth2.credentials import Credentials

from flask_google_flow import GoogleFlow
from tests.sign_in_helpers import query_of, sign_in

from .conftest import me, post


class CredentialsTable:
    """What an app would write: one row per Google account, no client secret."""

    def __init__(self, path, client_id, client_secret, token_uri):
        self.path = path
        self.client = (client_id, client_secret, token_uri)
        self.lock = threading.Lock()
        with self.connect() as db:
            db.execute(
                "CREATE TABLE credentials (sub TEXT PRIMARY KEY, token TEXT, "
                "refresh_token TEXT, expiry TEXT, scopes TEXT, email TEXT)"
            )

    def connect(self):
        return sqlite3.connect(self.path, timeout=10)

    def store(self, credentials, id_info):
        expiry = credentials.expiry.isoformat() if credentials.expiry else None
        scopes = " ".join(credentials.granted_scopes or credentials.scopes or [])
        with self.lock, self.connect() as db:
            db.execute(
                "INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(sub) DO UPDATE "
                "SET token=excluded.token, refresh_token=excluded.refresh_token, "
                "expiry=excluded.expiry, scopes=excluded.scopes",
                (
                    id_info["sub"],
                    credentials.token,
                    credentials.refresh_token,
                    expiry,
                    scopes,
                    id_info.get("email"),
                ),
            )

    def load(self, sub):
        with self.connect() as db:
            row = db.execute(
                "SELECT token, refresh_token, expiry, scopes FROM credentials WHERE sub = ?",
                (sub,),
            ).fetchone()
        if row is None:
            return None
        client_id, client_secret, token_uri = self.client
        token, refresh_token, expiry, scopes = row
        return Credentials(
            token,
            refresh_token=refresh_token,
            token_uri=token_uri,
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes.split(),
            expiry=dt.datetime.fromisoformat(expiry) if expiry else None,
        )

    def delete(self, sub):
        with self.connect() as db:
            db.execute("DELETE FROM credentials WHERE sub = ?", (sub,))

    def row(self, sub):
        with self.connect() as db:
            return db.execute(
                "SELECT token, refresh_token, expiry FROM credentials WHERE sub = ?", (sub,)
            ).fetchone()

    def set_expiry(self, sub, expiry):
        with self.connect() as db:
            db.execute("UPDATE credentials SET expiry = ? WHERE sub = ?", (expiry, sub))


@pytest.fixture
def table(tmp_path, fake):
    client = fake.default_client
    return CredentialsTable(
        str(tmp_path / "app.db"), client.client_id, client.client_secret, fake.endpoints.token
    )


@pytest.fixture
def db_app(make_app, clock, table):
    google_flow = GoogleFlow(clock=clock, store=table.store, load=table.load, delete=table.delete)
    return make_app(extension=google_flow)


@pytest.fixture
def db_client(db_app):
    return db_app.test_client()


def test_sign_in_writes_a_row_and_load_reads_it(db_client, fake, table):
    sign_in(db_client, fake)
    sub = fake.default_account.sub
    token, refresh_token, _ = table.row(sub)
    assert fake.access_token_is_valid(token)
    data = me(db_client)
    assert data["token"] == token and data["refresh_token"] == refresh_token
    assert db_client.get("/api").get_json()["status"] == 200
    # nothing about the credentials lives in the session with a load callback
    assert "_google_flow_credentials" not in str(db_app_session(db_client))


def db_app_session(client):
    with client.session_transaction() as session:
        return dict(session)


def test_refresh_is_written_to_the_database(db_client, fake, table, clock):
    sign_in(db_client, fake)
    sub = fake.default_account.sub
    old_token = table.row(sub)[0]
    clock.advance(3600)
    assert db_client.get("/api").get_json()["status"] == 200
    new_token, refresh_token, _expiry = table.row(sub)
    assert new_token != old_token and fake.access_token_is_valid(new_token)
    assert refresh_token


@pytest.mark.parametrize("fake_options", [{"rotate_refresh_tokens": True}])
def test_rotated_refresh_token_is_written_to_the_database(db_client, fake, table, clock):
    sign_in(db_client, fake)
    sub = fake.default_account.sub
    first = table.row(sub)[1]
    for _ in range(2):
        clock.advance(3600)
        assert db_client.get("/api").get_json()["status"] == 200
    assert table.row(sub)[1] != first


def test_a_401_triggers_one_refresh_and_a_retry(db_client, fake, table, clock):
    sign_in(db_client, fake)
    sub = fake.default_account.sub
    table.set_expiry(sub, None)  # the app lost the expiry: only the 401 tells
    clock.advance(3600)
    fake.reset_counts()
    assert db_client.get("/api").get_json()["status"] == 200
    assert fake.request_counts["token"] == 1
    assert fake.request_counts["userinfo"] == 2
    assert fake.access_token_is_valid(table.row(sub)[0])


def test_invalid_grant_deletes_the_row(db_client, fake, table, clock):
    sign_in(db_client, fake)
    sub = fake.default_account.sub
    fake.revoke_token(table.row(sub)[1])
    clock.advance(3600)
    response = db_client.get("/api")
    assert query_of(response.headers["Location"])["prompt"] == "consent"
    assert table.row(sub) is None


def test_revoke_deletes_the_row(db_client, fake, table):
    sign_in(db_client, fake)
    assert post(db_client, "/revoke").status_code == 302
    assert table.row(fake.default_account.sub) is None


@pytest.mark.parametrize("fake_options", [{"rotate_refresh_tokens": True}])
def test_concurrent_refresh_ends_with_a_valid_stored_token(db_app, db_client, fake, table, clock):
    sign_in(db_client, fake)
    clock.advance(3600)
    fake.reset_counts()
    cookie = db_client.get_cookie("session")
    db_app.config["TEST_API_BARRIER"] = threading.Barrier(4)
    statuses = []

    def worker():
        c = db_app.test_client()
        c.set_cookie("session", cookie.value)
        statuses.append(c.get("/api").get_json()["status"])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    db_app.config["TEST_API_BARRIER"] = None
    assert statuses == [200] * 4
    assert fake.request_counts["token"] == 1
    token = table.row(fake.default_account.sub)[0]
    assert fake.access_token_is_valid(token)
    clock.advance(3600)
    assert db_client.get("/api").get_json()["status"] == 200  # the rotated one works


def test_another_process_refreshed_already(db_app, db_client, fake, table, clock):
    """A token written by another worker is adopted instead of refreshing again."""
    sign_in(db_client, fake)
    sub = fake.default_account.sub
    clock.advance(3600)
    other = db_app.test_client()  # same user, other browser/worker, same database
    other.set_cookie("session", db_client.get_cookie("session").value)
    assert other.get("/api").get_json()["status"] == 200
    fake.reset_counts()
    db_app.extensions["google_flow"].refresher._recent.clear()  # a separate process
    assert db_client.get("/api").get_json()["status"] == 200
    assert fake.request_counts["token"] == 0
    assert fake.access_token_is_valid(table.row(sub)[0])
