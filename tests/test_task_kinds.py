"""Every kind of sync task has one definition, complete: a new kind cannot be half-defined."""

from __future__ import annotations

import re

import pytest

from webapp.models import SyncTask, TaskKind
from webapp.services.sync.task_kinds import KINDS, TaskKindDef, kind_of
from webapp.walmart.enums import RATE_LIMITS


@pytest.mark.parametrize("kind", list(TaskKind))
def test_every_kind_has_a_definition_with_every_part(kind):
    d = KINDS[kind]
    assert isinstance(d, TaskKindDef) and d.kind is kind
    assert kind_of(SyncTask(kind=kind.value, target="X")) is d
    # How it is sent and read back, under which of Walmart's rate limits.
    assert d.endpoint in RATE_LIMITS
    for part in ("send", "applied", "on_success", "summary"):  # abstract: never inherited
        assert getattr(type(d), part) is not getattr(TaskKindDef, part), part
    if d.read_endpoint is None:  # never read back: nothing may ask it to be
        assert not d.recheck_on_data_error
    else:
        assert d.read_endpoint in RATE_LIMITS
        assert type(d).read_back is not TaskKindDef.read_back
        assert d.read_back_note
    # Its words.
    assert d.in_flight_text.endswith("Walmart…")
    for pattern, title, meaning, fix in d.explanations:
        assert re.compile(pattern) and title and meaning and fix
    assert isinstance(d.summary(SyncTask(kind=kind.value, target="X"), {}), list)


def test_a_half_defined_kind_cannot_be_made():
    class Half(TaskKindDef):
        kind = TaskKind.SHIP
        endpoint, read_endpoint, in_flight_text = "shipping", None, "Sending to Walmart…"

        def send(self, client, task):
            return None

    with pytest.raises(TypeError):
        Half()


@pytest.mark.parametrize(("kind", "message", "title"), [
    # Behaviour change: a refusal only the task's kind meets is explained as that kind's before
    # the general rules (it used to lose to a general rule its message also matched).
    ("ship", "Qty OverShipped: the Line: 4 of PO: 1 is in SHIPPED status", "already shipped"),
    ("refund", "carrier: Refund amount exceeds the refundable quantity", "will not refund"),
    # The store's own problems still come first.
    ("refund", "Unauthorized: Refund amount exceeds", "credentials"),
])
def test_a_kinds_own_refusals_come_before_the_general_rules(kind, message, title):
    from webapp.services.sync.explain import explain

    task = SyncTask(kind=kind, target="1", last_error_code="INVALID_REQUEST_CONTENT",
                    last_error_field="data", last_error_message=message)
    assert title in explain(task).title.lower()
