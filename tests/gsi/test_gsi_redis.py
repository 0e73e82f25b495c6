"""POST /gsi with Redis sessions: the page nonce lives in Redis and is popped once."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from flask_google_flow.ext.pending import BINDING_SESSION_KEY
from tests.conftest import require
from tests.gsi.conftest import page_nonce, post_gsi

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, db=0, socket_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        require(False, "no Redis at 127.0.0.1:6379", "start redis-server to run this test")
    return client


def test_gsi_nonce_in_redis_is_single_use(make_app, fake, redis_client, stored):
    prefix = f"gsi-test-{uuid.uuid4().hex[:8]}:"
    app = make_app(
        config={
            "SESSION_TYPE": "redis",
            "SESSION_REDIS": redis_client,
            "SESSION_KEY_PREFIX": prefix,
        }
    )
    try:
        client = app.test_client()
        nonce = page_nonce(client)
        with client.session_transaction() as sess:
            binding = sess[BINDING_SESSION_KEY]
        # The documented record key (flask_google_flow.ext.pending).
        key = "google-flow:pending:" + hashlib.sha256(f"{binding}:{nonce}".encode()).hexdigest()
        assert redis_client.exists(key)
        credential = fake.gsi_credential(nonce=nonce)
        assert post_gsi(client, credential).status_code == 302
        assert not redis_client.exists(key)
        assert post_gsi(client, credential).status_code == 400  # replayed
        assert len(stored) == 1
    finally:
        for key in redis_client.scan_iter(prefix + "*"):
            redis_client.delete(key)
