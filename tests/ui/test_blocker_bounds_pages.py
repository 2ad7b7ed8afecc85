"""The pages that expand blockers (day, new booking, blockers) with blockers stored before the
bounds of issue 12: a 4,000-year yearly blocker answers normally, and one occurring every
second is stopped by the deadline with an error page, never a 500 or a traceback."""

from __future__ import annotations

import pytest

from tests.conftest import store_blocker

EVERY = ",".join(str(n) for n in range(60))
PER_SECOND = (
    f"FREQ=DAILY;BYHOUR={','.join(str(h) for h in range(24))};BYMINUTE={EVERY};BYSECOND={EVERY}"
)


def _pages(resource_id: str) -> list[str]:
    return ["/day?date=2030-03-02", f"/bookings/new?resource_id={resource_id}&date=2030-03-02"]


def test_a_stored_4000_year_blocker_leaves_the_pages_working(desk, db, make_resource):
    resource = make_resource()
    yearly = {"freq": "yearly", "count": 2}
    store_blocker(db, resource["id"], "2000-01-01T00:00:00Z", "6000-01-01T00:00:00Z", yearly)
    counter = desk("booking:write")
    for path in [*_pages(resource["id"]), "/blockers"]:
        counter.text(path)  # asserts 200


@pytest.mark.parametrize("page", [0, 1])
def test_a_stored_rule_of_one_a_second_gets_an_error_page_not_a_500(
    app, desk, db, make_resource, page
):
    resource = make_resource()
    store_blocker(
        db, resource["id"], "2030-01-07T12:00:00Z", "2030-01-07T12:00:01Z", {"rrule": PER_SECOND}
    )
    counter = desk("booking:write")
    # A deadline already past when the page first checks it: how long this rule takes to
    # expand depends on the machine, and the page's answer must not.
    app.config["REQUEST_DEADLINE_MS"] = -1
    response = counter.get(_pages(resource["id"])[page])
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "of work and was stopped" in text
    assert "Traceback" not in text
