"""The deployment guide's PostgreSQL recipe, against the real PostgreSQL server."""

from __future__ import annotations

import pytest

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.pending import SqlPendingFlowStore

from .conftest import CALLBACK, load_example, sign_in
from .test_examples import _config_with

pytestmark = pytest.mark.integration


def test_postgresql_recipe_signs_in(fake, tmp_path, monkeypatch):
    from tests.backends.conftest import sql_url

    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("DATABASE_URL", sql_url("postgresql", tmp_path))
    module = load_example("postgres_sessions")
    overrides = {"GOOGLE_CLIENT_CONFIG": fake.client_config([CALLBACK])}
    monkeypatch.setattr(module.Flask, "config_class", _config_with(overrides))
    app = module.create_app()
    store = GoogleFlow.state(app).pending.store
    assert isinstance(store, SqlPendingFlowStore)
    assert store.engine.dialect.name == "postgresql"
    client = app.test_client()
    response = sign_in(client, fake, "/authorize?next=/done")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/done"
