"""The PostgreSQL recipe of docs/deployment.md: it starts while the database is down."""

from __future__ import annotations

import socket

from tests.docs.conftest import CALLBACK, load_example


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postgres_recipe_starts_with_the_database_down(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{_dead_port()}/postgres"
    )
    module = load_example("postgres_sessions")
    app = module.create_app({"GOOGLE_CLIENT_CONFIG": fake.client_config([CALLBACK])})
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] and options["connect_args"]["connect_timeout"] == 2
    assert "statement_timeout" in options["connect_args"]["options"]
    assert app.session_interface.wrapped is None  # not set up yet: the database is down
    response = app.test_client().get("/authorize")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)
