"""Returns → Import now queues only the stores whose import is on."""

from __future__ import annotations


def test_import_now_skips_stores_with_import_switched_off(app, make_user, auth, signed_in,
                                                          client):
    """Import now on Returns queues a returns pass of the import-on store only."""
    from jobs.queue import get_queue
    from tests.factories import make_store

    with app.app_context():
        on = make_store(name="On").id
        make_store(name="Off", import_enabled=False)
    signed_in("operator")
    response = client.post("/returns/import", data={"csrf_token": auth.csrf("/returns/")})
    assert response.status_code == 303
    with app.app_context():
        jobs = get_queue().jobs
    assert [(j.func_name, j.args) for j in jobs] == [("jobs.imports.import_returns", (on,))]


def test_import_now_with_every_store_off_says_so(app, auth, signed_in, client):
    """With every store's import off, Import now queues nothing and says why."""
    from jobs.queue import get_queue
    from tests.factories import make_store

    with app.app_context():
        make_store(name="Off", import_enabled=False)
    signed_in("operator")
    page = client.post("/returns/import", data={"csrf_token": auth.csrf("/returns/")},
                       follow_redirects=True).text
    assert "No store has import switched on" in page
    with app.app_context():
        assert get_queue().jobs == []
