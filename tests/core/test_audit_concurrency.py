"""Clinical writes on several connections at once append to one unbroken chain
(PostgreSQL, real threads, each with its own connection and transactions)."""

import threading
import time

import pytest
from django.db import connection, transaction

from core import audit
from core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS, EACH = 4, 15


def test_concurrent_appends_make_one_gapless_verified_chain():
    before = AuditEvent.objects.count()
    barrier = threading.Barrier(WRITERS)
    failures = []

    def writer(n):
        try:
            barrier.wait(timeout=10)
            for i in range(EACH):
                with transaction.atomic():
                    audit.record(
                        "update", object_type="test.Thing", object_id=f"{n}-{i}", new={"i": i}
                    )
                    # Still inside the transaction that holds the chain's lock: the other
                    # writers queue on it, and each must then read the event just committed.
                    time.sleep(0.002)
        except Exception as exc:  # reported by the assertion below
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not failures
    events = list(
        AuditEvent.objects.order_by("seq").values_list(
            "seq", "object_id", "prev_hash", "entry_hash"
        )
    )
    assert len(events) == before + WRITERS * EACH
    assert [e[0] for e in events] == list(range(1, len(events) + 1))
    for previous, event in zip(events, events[1:], strict=False):
        assert event[2] == previous[3]
    assert {e[1] for e in events[before:]} == {
        f"{n}-{i}" for n in range(WRITERS) for i in range(EACH)
    }
    status = audit.verify_chain()
    assert status.ok and status.checked == len(events)
