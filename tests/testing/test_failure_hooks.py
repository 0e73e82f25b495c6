"""Scripted endpoint failures and request counters."""

from __future__ import annotations

import pytest
import requests


def _exchange(google):
    url, verifier = google.authorization_url()
    callback = google.fake.approve(url)
    return callback, verifier


def test_server_error_for_next_request_only_and_code_stays_usable(google):
    callback, verifier = _exchange(google)
    google.fake.fail_token("server_error", status=502)
    failed = google.redeem(callback, verifier)
    assert failed.status_code == 502
    assert google.redeem(callback, verifier).status_code == 200


def test_failure_for_n_requests(google):
    google.fake.fail("token", "server_error", times=2)
    codes = [google.token({"grant_type": "refresh_token"}).status_code for _ in range(3)]
    assert codes == [503, 503, 400]


def test_failure_until_cleared(google):
    google.fake.fail("token", "server_error", times=None)
    codes = [google.token({"grant_type": "refresh_token"}).status_code for _ in range(3)]
    assert codes == [503, 503, 503]
    google.fake.clear_failures()
    assert google.token({"grant_type": "refresh_token"}).status_code == 400


def test_not_json(google):
    callback, verifier = _exchange(google)
    google.fake.fail_token("not_json")
    response = google.redeem(callback, verifier)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_missing_access_token(google):
    callback, verifier = _exchange(google)
    google.fake.fail_token("missing_access_token")
    body = google.redeem(callback, verifier).json()
    assert "access_token" not in body and body["token_type"] == "Bearer"


def test_mac_token_type(google):
    callback, verifier = _exchange(google)
    google.fake.fail_token("mac_token_type")
    assert google.redeem(callback, verifier).json()["token_type"] == "mac"
    assert google.redeem(callback, verifier).json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("timeout", requests.exceptions.ReadTimeout),
        ("connect_timeout", requests.exceptions.ConnectTimeout),
    ],
)
def test_timeouts_in_process_raise_requests_timeouts(in_process, kind, error):
    callback, verifier = _exchange(in_process)
    in_process.fake.fail_token(kind)
    with pytest.raises(error):
        in_process.redeem(callback, verifier)
    assert in_process.redeem(callback, verifier).status_code == 200


def test_timeout_on_a_real_server_sleeps_past_the_client_timeout(server):
    callback, verifier = _exchange(server)
    server.fake.fail_token("timeout", delay=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        server.redeem(callback, verifier, timeout=0.1)
    assert server.redeem(callback, verifier).status_code == 200


def test_stop_wakes_a_sleeping_timeout(fake, session):
    import threading
    import time

    with fake.serve():
        fake.trust(session)
        fake.fail("certs", "timeout", delay=30)
        results = []
        thread = threading.Thread(
            target=lambda: results.append(session.get(fake.endpoints.certs_pem, timeout=10))
        )
        thread.start()
        time.sleep(0.1)
        started = time.monotonic()
    thread.join(5)
    assert time.monotonic() - started < 5
    assert results and results[0].status_code == 504


@pytest.mark.parametrize("endpoint", ["certs", "userinfo", "revoke", "discovery"])
def test_other_endpoints_can_fail(google, endpoint):
    fake = google.fake
    urls = {
        "certs": fake.endpoints.jwks,
        "userinfo": fake.endpoints.userinfo,
        "revoke": fake.endpoints.revocation,
        "discovery": fake.endpoints.discovery,
    }
    method = "POST" if endpoint == "revoke" else "GET"
    fake.fail(endpoint, "server_error")
    assert google.session.request(method, urls[endpoint], timeout=5).status_code == 503
    fake.fail(endpoint, "not_json")
    assert google.session.request(method, urls[endpoint], timeout=5).text.startswith("<html>")


def test_invalid_failure_arguments(fake):
    with pytest.raises(ValueError, match="endpoint"):
        fake.fail("authorize", "server_error")
    with pytest.raises(ValueError, match="kind"):
        fake.fail("certs", "mac_token_type")
    with pytest.raises(ValueError, match="times"):
        fake.fail("token", "server_error", times=0)


def test_request_counters(google):
    fake = google.fake
    google.login()
    for _ in range(2):
        google.session.get(fake.endpoints.certs_pem, timeout=5)
    google.session.get(fake.endpoints.jwks, timeout=5)
    google.session.get(fake.endpoints.discovery, timeout=5)
    google.session.get(fake.endpoints.userinfo, timeout=5)
    google.session.post(fake.endpoints.revocation, data={"token": "x"}, timeout=5)
    url, _ = google.authorization_url()
    google.session.get(url, timeout=5)
    assert fake.request_counts == {
        "token": 1,
        "certs": 3,
        "discovery": 1,
        "userinfo": 1,
        "revoke": 1,
        "authorize": 1,
    }
    fake.reset_counts()
    assert fake.request_counts["token"] == 0


def test_unknown_path_is_404_and_wrong_method_405(server):
    assert server.session.get(server.fake.base_url + "/nope", timeout=5).status_code == 404
    assert server.session.get(server.fake.endpoints.token, timeout=5).status_code == 405
    assert server.fake.request_counts["other"] == 2
