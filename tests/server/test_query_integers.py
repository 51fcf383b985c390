"""Integer query parameters: out of range or not a plain integer is a 400 that names the
parameter and its range, never a 500 from the store (docs/api.md, Errors)."""

from __future__ import annotations

import pytest

from .wsgi_client import WsgiClient

TOO_BIG = str(2 ** 63)  # one past the store's largest integer: OverflowError in SQLite


@pytest.mark.parametrize(("query", "name"), [
    (f"offset={TOO_BIG}", "offset"), (f"limit={TOO_BIG}", "limit"),
    ("offset=" + "9" * 400, "offset"), ("limit=501", "limit"), ("limit=0", "limit"),
    ("offset=-1", "offset"), ("offset=1_0", "offset"), ("limit=+5", "limit"),
    ("limit=%D9%A5", "limit"), ("offset=", "offset"), ("limit=%205", "limit"),
])
def test_a_bad_integer_is_a_400_naming_it_and_its_range(app_client: WsgiClient, query: str,
                                                         name: str) -> None:
    answer = app_client.call("GET", f"/batches?{query}")
    assert answer.code == 400, answer.data
    assert answer.data["parameter"] == name
    assert answer.data["status"].startswith(f"{name} must be an integer from ")


def test_the_largest_offset_is_answered_with_an_empty_page(app_client: WsgiClient) -> None:
    answer = app_client.call("GET", f"/batches?offset={2 ** 63 - 1}&limit=500")
    assert answer.code == 200, answer.data
    assert answer.data["batches"] == [] and answer.data["offset"] == 2 ** 63 - 1
