"""Sign-out ends the session on the server, the strong session check believes X-Forwarded-For
only behind a configured proxy, and weak passwords (only spaces, very common) are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import Auth

VICTIM, ATTACKER, PROXY = "198.51.100.7", "203.0.113.9", "10.0.0.1"


def _copy_session(source, target) -> None:
    target.set_cookie("session", source.get_cookie("session").value)


def test_sign_out_ends_every_copy_of_the_session(app, make_user):
    """Two clients share one session cookie; when one signs out, the other's copy stops
    working too (the session is ended on the server, not just forgotten by the browser)."""
    user = make_user()
    owner, thief = Auth(app.test_client()), Auth(app.test_client())
    assert owner.login(user.email).status_code == 302
    _copy_session(owner.client, thief.client)
    assert thief.client.get("/").status_code == 200
    assert owner.logout().status_code == 303
    assert thief.client.get("/").status_code == 302
    assert thief.client.get("/orders/").status_code == 302


def test_strong_session_check_ignores_a_forged_x_forwarded_for(app, make_user):
    """Without a proxy configured, a copied cookie used from another address is dropped even
    when the request claims the owner's address in X-Forwarded-For."""
    user = make_user()
    owner, thief = Auth(app.test_client()), Auth(app.test_client())
    owner.client.environ_base["REMOTE_ADDR"] = VICTIM
    assert owner.login(user.email).status_code == 302
    _copy_session(owner.client, thief.client)
    thief.client.environ_base["REMOTE_ADDR"] = VICTIM  # from the owner's address: accepted
    assert thief.client.get("/").status_code == 200
    thief.client.environ_base["REMOTE_ADDR"] = ATTACKER
    forged = thief.client.get("/", headers={"X-Forwarded-For": VICTIM})
    assert forged.status_code == 302
    assert owner.client.get("/").status_code == 200  # the owner is not signed out by it


@pytest.fixture
def behind_proxy(app_settings):
    app_settings["PROXY_FIX"] = True


def test_behind_a_proxy_the_strong_check_uses_the_forwarded_address(behind_proxy, app,
                                                                    make_user):
    """With ORDERDECK_BEHIND_PROXY, the proxy's X-Forwarded-For is the client address the
    session is bound to: the same cookie from another forwarded address is dropped."""
    user = make_user()
    owner, thief = Auth(app.test_client()), Auth(app.test_client())
    owner.client.environ_base.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=VICTIM)
    assert owner.login(user.email).status_code == 302
    _copy_session(owner.client, thief.client)
    thief.client.environ_base.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=VICTIM)
    assert thief.client.get("/").status_code == 200
    thief.client.environ_base["HTTP_X_FORWARDED_FOR"] = ATTACKER
    assert thief.client.get("/").status_code == 302


@pytest.mark.parametrize("password, message", [
    (" " * 12, "The password cannot be only spaces."),
    ("\t \u00a0 \n      ", "The password cannot be only spaces."),
    ("1234567890", "one of the most common"),
    ("qwertyuiop", "one of the most common"),
    ("Password123", "one of the most common"),
    (" Manchester ", "one of the most common"),
])
def test_weak_passwords_are_refused_everywhere(app_ctx, make_user, password, message):
    """A password of only spaces, or one on the common-passwords list (in any letter case), is
    refused when creating a user and when setting a new password; nothing changes."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services.errors import ActionRefused
    from webapp.services.users.accounts import create_user, set_password

    with pytest.raises(ActionRefused, match=message):
        create_user("weak@example.com", "viewer", password)
    assert db.session.scalar(select(User).where(User.email == "weak@example.com")) is None
    user = db.session.merge(make_user())
    before = (user.password_hash, user.session_token)
    with pytest.raises(ActionRefused, match=message):
        set_password(user, password)
    db.session.refresh(user)
    assert (user.password_hash, user.session_token) == before


def test_users_page_refuses_a_common_password_with_a_message(app, signed_in, auth):
    """On the Users page a common password is refused in place (422) and creates nobody."""
    from webapp.extensions import db
    from webapp.models import User

    signed_in("admin")
    response = auth.client.post("/users/", data={
        "email": "ops@example.com", "role": "operator", "password": "1q2w3e4r5t",
        "csrf_token": auth.csrf("/users/")})
    assert response.status_code == 422
    assert "one of the most common" in response.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "ops@example.com")) is None


def test_an_uncommon_password_is_still_accepted(app_ctx):
    """A long, unusual password passes the checks (the list does not refuse everything)."""
    from webapp.services.users.accounts import create_user

    assert create_user("fine@example.com", "viewer", "plum velvet 42 orbit").id
