"""The pharmacist queue at scale (issue 23): counted only as far as the pages near the one
shown; beyond, the header and the pager say "more than", and below they stay exact."""

import pytest

from infusion import selectors, services
from tests.infusion.test_queue import signed_for_new_patient

pytestmark = pytest.mark.django_db


def test_a_long_queue_is_counted_only_near_the_page_shown(
    ward_a, physician, nurse, pharmacist, auditor, login, monkeypatch
):
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 1)
    monkeypatch.setattr(selectors, "QUEUE_PAGES_COUNTED", 1)  # 20 in use
    episodes = [signed_for_new_patient(ward_a, physician, nurse, days=d) for d in range(1, 6)]
    services.episode_cancel(episode=episodes.pop(), actor=physician, reason="not needed")
    client = login(pharmacist)
    first = client.get("/infusion/queue/").content.decode()
    assert "more than 2 episodes waiting" in first
    assert "Page 1 of more than 2" in first and 'href="?page=2"' in first
    assert f'id="queue-item-{episodes[0].pk}"' in first
    # The count reaches the end from page 3 on: exact, as for any short queue.
    third = client.get("/infusion/queue/?page=3").content.decode()
    assert "4 episodes waiting" in third and "more than" not in third
    assert "Page 3 of 4" in third and f'id="queue-item-{episodes[2].pk}"' in third
    # An auditor's queue (every ward) is counted the same way.
    audited = login(auditor).get("/infusion/queue/?page=3").content.decode()
    assert "4 episodes waiting" in audited and "Page 3 of 4" in audited
    items, total, page = selectors.pharmacy_queue(pharmacist, 1)
    assert (len(items), total, page) == (1, 3, 1)  # counted to one past page 1 + 1
    assert selectors.queue_count_shown(total, page) == (2, True)
