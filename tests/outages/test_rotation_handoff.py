"""Callbacks of one browser at once: the session-id rotation of the first strands no other.

A browser with 8 sign-ins pending sends their 8 callbacks at once, all with
the same cookie. The first to finish rotates the session id, which deletes
the session that cookie names; the others arrive after that with the old
cookie. Here they are replayed in that order, deterministically: the first
callback, then the other seven with the pre-rotation cookie (``rotated``).
The attack tests check that the old cookie is good for nothing else.
"""

from __future__ import annotations

import pytest

from tests.sign_in_helpers import callback_path, start


def _pending(client, fake, n, *, account=None):
    """Start *n* sign-ins in one browser; their callback paths (approved) and the cookie."""
    locations = [start(client, next=f"/tab{i}") for i in range(n)]
    cookie = client.get_cookie("session").value
    callbacks = [callback_path(fake.approve(loc, account=account)) for loc in locations]
    return callbacks, cookie


def _with_cookie(client, cookie, path):
    client.set_cookie("session", cookie)
    return client.get(path)


def _eight_callbacks_complete(app, fake):
    client = app.test_client()
    callbacks, old = _pending(client, fake, 8)
    first = _with_cookie(client, old, callbacks[0])
    assert first.status_code == 302
    assert client.get_cookie("session").value != old  # rotated
    results = [_with_cookie(client, old, path) for path in callbacks[1:]]
    assert [r.status_code for r in results] == [302] * 7, [r.status_code for r in results]
    assert [r.headers["Location"] for r in results] == [f"/tab{i}" for i in range(1, 8)]
    # Each finished into a session of its own, signed in.
    cookies = {first.headers["Set-Cookie"].split(";")[0]}
    for response in results:
        cookies.add(response.headers["Set-Cookie"].split(";")[0])
    assert len(cookies) == 8
    assert client.get("/").get_data(as_text=True) == "home tester@example.com"


def test_eight_callbacks_with_the_pre_rotation_cookie_all_complete(make_app, fake, stored):
    app = make_app(stored=stored)
    _eight_callbacks_complete(app, fake)
    assert len(stored) == 8


@pytest.mark.integration
def test_eight_callbacks_complete_on_redis(make_app, fake, redis_server):
    from flask_google_flow.ext.resilience import fail_fast_redis

    app = make_app(
        config={"SESSION_TYPE": "redis", "SESSION_REDIS": fail_fast_redis(redis_server.url)}
    )
    _eight_callbacks_complete(app, fake)


def test_without_the_grace_period_the_late_callbacks_fail(make_app, fake):
    """The control: GOOGLE_FLOW_ROTATION_GRACE = 0 shows the failure the hand-off fixes."""
    app = make_app(rotation_grace=0)
    client = app.test_client()
    callbacks, old = _pending(client, fake, 3)
    assert _with_cookie(client, old, callbacks[0]).status_code == 302
    assert _with_cookie(client, old, callbacks[1]).status_code == 400


def test_a_single_sign_in_leaves_no_hand_off_record(make_app, fake):
    app = make_app()
    store = app.extensions["google_flow"].pending.store
    puts = []
    original = store.put

    def counting_put(key, value, ttl):
        puts.append(key)
        return original(key, value, ttl)

    store.put = counting_put  # our own object: count its writes
    client = app.test_client()
    callbacks, old = _pending(client, fake, 1)
    before = len(puts)
    assert _with_cookie(client, old, callbacks[0]).status_code == 302
    assert len(puts) == before


# -- the old cookie is good for nothing else --------------------------------------------


def test_the_old_cookie_reads_an_empty_session(make_app, fake):
    app = make_app()
    client = app.test_client()
    callbacks, old = _pending(client, fake, 2)
    assert _with_cookie(client, old, callbacks[0]).status_code == 302
    assert _with_cookie(client, old, "/").get_data(as_text=True) == "home anonymous"


def test_the_old_cookie_cannot_replay_the_finished_callback(make_app, fake, stored):
    app = make_app(stored=stored)
    client = app.test_client()
    callbacks, old = _pending(client, fake, 2)
    assert _with_cookie(client, old, callbacks[0]).status_code == 302
    assert _with_cookie(client, old, callbacks[0]).status_code == 400
    assert fake.request_counts["token"] == 1
    # The refused try did not use up the hand-off of the sign-in still pending.
    assert _with_cookie(client, old, callbacks[1]).status_code == 302
    assert len(stored) == 2


def test_the_old_cookie_cannot_finish_another_browsers_sign_in(make_app, fake):
    app = make_app()
    victim, other = app.test_client(), app.test_client()
    callbacks, old = _pending(victim, fake, 2)
    [foreign], _ = _pending(other, fake, 1)
    assert _with_cookie(victim, old, callbacks[0]).status_code == 302
    attacker = app.test_client()
    assert _with_cookie(attacker, old, foreign).status_code == 400
    assert fake.request_counts["token"] == 1


def test_new_sign_ins_started_with_the_old_cookie_get_no_hand_off(make_app, fake):
    """After the rotation, /authorize with the old cookie makes a new session and binding."""
    app = make_app()
    client = app.test_client()
    callbacks, old = _pending(client, fake, 2)
    assert _with_cookie(client, old, callbacks[0]).status_code == 302
    assert _with_cookie(client, old, callbacks[1]).status_code == 302  # the one hand-off
    attacker = app.test_client()
    attacker.set_cookie("session", old)
    location = start(attacker)
    late = callback_path(fake.approve(location))
    assert _with_cookie(attacker, old, late).status_code == 400


def test_a_fixated_session_gives_the_attacker_nothing_of_the_victim(make_app, fake):
    """Session fixation: the attacker planted cookie A and started a sign-in of its own in it."""
    fake.add_account("attacker@example.com")
    app = make_app()
    attacker = app.test_client()
    [own], planted = _pending(attacker, fake, 1, account="attacker@example.com")
    victim = app.test_client()
    victim.set_cookie("session", planted)  # planted in the victim's browser
    location = start(victim)
    assert victim.get_cookie("session").value == planted
    assert victim.get(callback_path(fake.approve(location))).status_code == 302
    victims_session = victim.get_cookie("session").value
    assert victims_session != planted
    # The attacker finishes its own sign-in with the planted cookie.
    response = _with_cookie(attacker, planted, own)
    assert response.status_code == 302
    attackers_session = attacker.get_cookie("session").value
    assert attackers_session not in (planted, victims_session)
    assert attacker.get("/").get_data(as_text=True) == "home attacker@example.com"
    assert victim.get("/").get_data(as_text=True) == "home tester@example.com"


def test_the_hand_off_expires_after_the_grace_period(make_app, fake, clock):
    app = make_app(rotation_grace=30)
    client = app.test_client()
    callbacks, old = _pending(client, fake, 2)
    assert _with_cookie(client, old, callbacks[0]).status_code == 302
    clock.advance(31)
    assert _with_cookie(client, old, callbacks[1]).status_code == 400
    assert fake.request_counts["token"] == 1  # refused before the code exchange


def test_refused_claims_do_not_extend_the_grace_period(make_app, fake, clock):
    app = make_app(rotation_grace=30)
    client = app.test_client()
    callbacks, old = _pending(client, fake, 2)
    assert _with_cookie(client, old, callbacks[0]).status_code == 302
    for _ in range(3):
        clock.advance(10)
        assert _with_cookie(client, old, callbacks[0]).status_code == 400  # replays
    clock.advance(1)
    assert _with_cookie(client, old, callbacks[1]).status_code == 400
    assert fake.request_counts["token"] == 1  # refused before the code exchange


# -- the same, truly at once --------------------------------------------------------------


def _parallel_callbacks(app, fake, n=8):
    """n pending sign-ins of one browser, then their n callbacks in n threads at once."""
    import threading

    first = app.test_client()
    callbacks, cookie = _pending(first, fake, n)
    clients = [app.test_client() for _ in range(n)]
    for client in clients:
        client.set_cookie("session", cookie)
    barrier = threading.Barrier(n)
    statuses: list[int] = [0] * n

    def run(i):
        barrier.wait(10)
        statuses[i] = clients[i].get(callbacks[i]).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["filesystem", "redis"])
def test_eight_simultaneous_callbacks_all_complete(make_app, fake, stored, kind, request):
    config = {}
    if kind == "redis":
        from flask_google_flow.ext.resilience import fail_fast_redis

        server = request.getfixturevalue("redis_server")
        config = {"SESSION_TYPE": "redis", "SESSION_REDIS": fail_fast_redis(server.url)}
    app = make_app(config=config, stored=stored)
    for _ in range(3):  # a few rounds: the interleaving differs each time
        stored.clear()
        statuses = _parallel_callbacks(app, fake)
        assert statuses == [302] * 8, statuses
        assert len(stored) == 8
