"""Every retry honours the wait a server asks for, in whichever header it says it."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from agent.retry_after import retry_after_seconds


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),  # the finer one wins
        ({"RateLimit": '"api";r=0;t=42'}, 42.0),  # the Hub
        ({}, None),
        (None, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-3"}, None),
    ],
)
def test_the_wait_each_server_asks_for(headers, wait):
    assert retry_after_seconds(headers) == wait


def test_an_http_date_and_an_epoch_reset_count_from_now():
    later = time.time() + 120
    from_date = retry_after_seconds({"Retry-After": formatdate(later, usegmt=True)})
    from_reset = retry_after_seconds({"X-RateLimit-Reset": str(int(later))})
    assert from_date is not None and 100 < from_date <= 120
    assert from_reset is not None and 100 < from_reset <= 120
    assert retry_after_seconds({"Retry-After": formatdate(time.time() - 60, usegmt=True)}) == 0
