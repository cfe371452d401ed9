"""htmx's history restore: Back after a history cache miss gets the whole page."""

from __future__ import annotations

import pytest

RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


@pytest.mark.parametrize("path", ["/orders/", "/stock/", "/returns/", "/audit/", "/sync/"])
def test_history_restore_gets_the_full_page(signed_in, client, path):
    """A history-restore request (htmx 2 sends HX-Request with it) is answered with the full
    page, not the fragment an htmx request of the same URL gets: htmx swaps the answer in
    place of the whole body."""
    signed_in("admin")
    fragment = client.get(path, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    restored = client.get(path, headers=RESTORE)
    assert restored.status_code == 200
    assert "<html" in restored.text and "</html>" in restored.text
    assert "HX-History-Restore-Request" in restored.headers["Vary"]
