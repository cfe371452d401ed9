"""The Users page and the `users` CLI."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select


def _users(app):
    from webapp.extensions import db
    from webapp.models import User

    with app.app_context():
        return {u.email: (u.role.value, u.active) for u in db.session.scalars(select(User))}


def _post(auth, path, **data):
    return auth.client.post(path, data={**data, "csrf_token": auth.csrf("/users/")})


def test_admin_creates_a_user_with_a_generated_password_shown_once(app, signed_in, auth):
    """An empty password field generates one, shown once, that signs the new user in."""
    signed_in("admin")
    response = _post(auth, "/users/", email="New.Person@Example.com", role="viewer", password="")
    assert response.status_code == 200
    password = re.search(r'<code class="secret-once">([^<]+)</code>', response.text).group(1)
    assert _users(app)["new.person@example.com"] == ("viewer", True)
    assert "secret-once" not in auth.client.get("/users/").text
    auth.logout()
    assert auth.login("new.person@example.com", password=password).status_code == 302


def test_admin_creates_a_user_with_a_chosen_password(app, signed_in, auth):
    """A password typed by the admin is used and never echoed back."""
    signed_in("admin")
    response = _post(auth, "/users/", email="ops@example.com", role="operator",
                     password="chosen password 1")
    assert "chosen password 1" not in response.text
    auth.logout()
    assert auth.login("ops@example.com", password="chosen password 1").status_code == 302


@pytest.mark.parametrize("email, password, message", [
    ("", "long enough pw", "This field is required."),
    ("not-an-address", "long enough pw", "Enter a valid e-mail address."),
    ("ok@example.com", "short", "Field must be between 10 and 256 characters long."),
])
def test_invalid_new_user_is_refused(app, signed_in, auth, email, password, message):
    """Bad input shows a message in place and creates nobody."""
    me = signed_in("admin")
    response = _post(auth, "/users/", email=email, role="operator", password=password)
    assert response.status_code == 422
    assert message in response.text
    assert list(_users(app)) == [me]


def test_duplicate_email_is_refused(app, signed_in, auth, make_user):
    """An e-mail already in use (in any letter case) cannot be added again."""
    signed_in("admin")
    make_user(email="taken@example.com")
    response = _post(auth, "/users/", email="TAKEN@example.com", role="viewer", password="")
    assert response.status_code == 422
    assert "already exists" in response.text


def test_admin_changes_a_role_and_the_user_gets_new_rights(app, signed_in, auth, make_user):
    """A viewer promoted to operator now holds the operator role."""
    signed_in("admin")
    user = make_user(role="viewer")
    _post(auth, f"/users/{user.id}/role", role="operator")
    assert _users(app)[user.email] == ("operator", True)


def test_the_last_admin_cannot_demote_or_deactivate_themselves(app, signed_in, auth):
    """Orderdeck always keeps one active admin."""
    me = signed_in("admin")
    from webapp.extensions import db
    from webapp.models import User
    with app.app_context():
        my_id = db.session.scalar(select(User.id).where(User.email == me))
    response = _post(auth, f"/users/{my_id}/role", role="viewer")
    assert "last active admin" in auth.client.get(response.headers["Location"]).text
    assert _users(app)[me] == ("admin", True)


def test_admin_deactivates_and_reactivates_a_user(app, signed_in, auth, make_user):
    """Deactivate blocks the account; Reactivate lets it back in."""
    signed_in("admin")
    user = make_user()
    _post(auth, f"/users/{user.id}/active")
    assert _users(app)[user.email] == ("operator", False)
    _post(auth, f"/users/{user.id}/active", active="y")
    assert _users(app)[user.email] == ("operator", True)


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_users_page_is_for_admins_only(app, signed_in, auth, role):
    """Non-admins get 403 on the Users page and on its actions, and the nav hides it."""
    me = signed_in(role)
    assert auth.client.get("/users/").status_code == 403
    assert 'href="/users/"' not in auth.client.get("/").text
    token = auth.csrf("/")
    response = auth.client.post("/users/", data={"email": "x@example.com", "role": "admin",
                                                 "password": "", "csrf_token": token})
    assert response.status_code == 403
    assert list(_users(app)) == [me]


def test_cli_creates_an_admin_from_stdin(app, runner):
    """`flask users create EMAIL --role admin --password-stdin` makes an account that signs in."""
    result = runner.invoke(args=["users", "create", "Boss@Example.com", "--role", "admin",
                                 "--password-stdin"], input="cli password 123\n")
    assert result.exit_code == 0, result.output
    assert "Created boss@example.com (admin)" in result.output
    from tests.conftest import Auth
    assert Auth(app.test_client()).login("boss@example.com", "cli password 123").status_code == 302


def test_cli_prompts_for_the_password(app, runner):
    """Without --password-stdin the password is asked twice at a hidden prompt."""
    result = runner.invoke(args=["users", "create", "p@example.com"],
                           input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    assert _users(app)["p@example.com"] == ("operator", True)


def test_cli_refuses_a_short_password_and_a_duplicate(app, runner):
    """The CLI reports refusals with a non-zero exit and changes nothing."""
    short = runner.invoke(args=["users", "create", "s@example.com", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    runner.invoke(args=["users", "create", "d@example.com", "--password-stdin"],
                  input="long enough pw\n")
    dup = runner.invoke(args=["users", "create", "d@example.com", "--password-stdin"],
                        input="long enough pw\n")
    assert dup.exit_code != 0 and "already exists" in dup.output
    assert list(_users(app)) == ["d@example.com"]


def test_cli_set_password_ends_open_sessions(app, runner, make_user, auth):
    """A new password from the CLI works, and signs out the sessions that used the old one."""
    user = make_user()
    auth.login(user.email)
    result = runner.invoke(args=["users", "set-password", user.email, "--password-stdin"],
                           input="brand new password\n")
    assert result.exit_code == 0, result.output
    assert auth.client.get("/").status_code == 302
    assert auth.login(user.email, "brand new password").status_code == 302
