"""Sign-in throttling: counted before the password check, a growing delay per account instead
of a lock-out, the per-address limit, and sign-in without Redis."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

WRONG = "wrong password!"


class Clock:
    """The throttle's clock, moved by hand: no test waits for real time to pass."""

    def __init__(self) -> None:
        self.value = 1_000_000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@pytest.fixture
def clock(monkeypatch):
    from webapp.services.users import login_throttle

    fake = Clock()
    monkeypatch.setattr(login_throttle, "now", fake)
    return fake


@pytest.fixture
def hash_checks(monkeypatch):
    """Counts password-hash checks; every check waits at `gate` until the test opens it, so
    parallel requests really are in flight together."""
    from webapp.services.users import accounts as users

    real = users.check_password_hash
    state = {"checks": 0, "done": 0, "lock": threading.Lock(), "gate": threading.Event()}

    def counting(pwhash: str, password: str) -> bool:
        with state["lock"]:
            state["checks"] += 1
        state["gate"].wait(timeout=60)
        return real(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", counting)
    return state


def _parallel(app, state, emails: list[str], allowed: int) -> list[int]:
    """POST one wrong password per e-mail, all at once; the statuses, sorted."""
    app.config["WTF_CSRF_ENABLED"] = False  # one bare POST per thread

    def attempt(email: str) -> int:
        response = app.test_client().post("/login", data={"email": email, "password": WRONG})
        with state["lock"]:
            state["done"] += 1
        return response.status_code

    with ThreadPoolExecutor(len(emails)) as pool:
        futures = [pool.submit(attempt, email) for email in emails]
        # Open the gate once every request is either inside a hash check or answered (or
        # once more checks than allowed have started: the test has failed, let it finish).
        deadline = time.monotonic() + 60
        while (state["checks"] + state["done"] < len(emails) and state["checks"] <= allowed
               and time.monotonic() < deadline):
            time.sleep(0.01)
        state["gate"].set()
        return sorted(future.result() for future in futures)


def _fail(auth, email: str, **headers):
    return auth.client.post("/login", headers=headers, data={
        "email": email, "password": WRONG, "csrf_token": auth.csrf("/login")})


def test_parallel_wrong_passwords_check_only_the_free_tries(app, make_user, clock, hash_checks):
    """24 parallel wrong passwords for one account do exactly 5 password-hash checks (the free
    tries); the other 19 are refused with 429 before any check."""
    user = make_user()
    statuses = _parallel(app, hash_checks, [user.email] * 24, allowed=5)
    assert hash_checks["checks"] == 5
    assert statuses == [401] * 5 + [429] * 19


def test_parallel_attempts_from_one_address_check_only_its_limit(app, make_user, clock,
                                                                 hash_checks):
    """20 parallel wrong passwords from one address, each for another account, do exactly as
    many hash checks as the per-address limit (3 here)."""
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    statuses = _parallel(app, hash_checks, [f"nobody{n}@example.com" for n in range(20)],
                         allowed=3)
    assert hash_checks["checks"] == 3
    assert statuses == [401] * 3 + [429] * 17


def test_delay_grows_from_one_second_and_is_capped_at_a_minute(make_user, auth, clock):
    """After the 5 free tries each attempt waits 1, 2, 4 … seconds, never more than 60; the
    person is told how long, and Retry-After says it too."""
    user = make_user()
    for _ in range(5):
        assert _fail(auth, user.email).status_code == 401
    waits = []
    for _ in range(9):
        refused = auth.login(user.email)
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        noun = "second" if wait == 1 else "seconds"
        assert f"Too many failed sign-ins for this account: wait {wait} {noun}" in refused.text
        waits.append(wait)
        clock.advance(wait)
        assert _fail(auth, user.email).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_the_real_user_gets_in_after_the_short_delay(make_user, auth, clock):
    """Someone else's 5 wrong passwords do not lock the account for 15 minutes: a second later
    the right password works."""
    user = make_user()
    for n in range(5):
        assert _fail(auth, user.email, **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code == 401
    assert auth.login(user.email).status_code == 429
    clock.advance(1)
    assert auth.login(user.email).status_code == 302


def test_a_successful_sign_in_gives_its_attempt_back(make_user, auth, clock):
    """A sign-in that succeeds does not use up a free try: after 4 failures and a success, the
    next wrong password is still checked (401), not refused (429)."""
    user = make_user()
    for _ in range(4):
        assert _fail(auth, user.email).status_code == 401
    assert auth.login(user.email).status_code == 302
    auth.logout()
    assert _fail(auth, user.email).status_code == 401


def test_address_limit_says_how_long_to_wait(app, make_user, auth, clock):
    """Over the per-address limit, the page says to wait (minutes) and sends Retry-After."""
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "2 per 15 minutes"
    for n in range(2):
        assert _fail(auth, f"nobody{n}@example.com").status_code == 401
    refused = auth.login(make_user().email)
    assert refused.status_code == 429
    assert "from your network address: wait 15 minutes" in refused.text
    assert 840 < int(refused.headers["Retry-After"]) <= 900


@pytest.fixture
def no_redis(app_settings):
    """The app's Redis is a closed port (the tests' own Redis stays up for the fixtures)."""
    app_settings["REDIS_URL"] = "redis://127.0.0.1:1/0"


def test_sign_in_works_and_is_throttled_when_redis_is_down(no_redis, make_user, auth, clock,
                                                           monkeypatch):
    """Without Redis, signing in still works and failures are still throttled (in the memory of
    the process), and Redis is not tried again at every attempt."""
    from webapp.services.users import login_throttle

    tries = []
    real = login_throttle.redis_connection
    monkeypatch.setattr(login_throttle, "redis_connection", lambda: tries.append(1) or real())
    user = make_user()
    assert auth.login(user.email).status_code == 302
    auth.logout()
    for _ in range(5):
        assert _fail(auth, user.email).status_code == 401
    assert auth.login(user.email).status_code == 429
    clock.advance(1)
    assert auth.login(user.email).status_code == 302
    assert len(tries) == 1
