"""HTTP conventions every route keeps (issue 15 §3): Location on 201, ETag with If-None-Match
and If-Match, Cache-Control: no-store on shop data, compression of large bodies, 415."""

from __future__ import annotations

import gzip
import threading

import pytest

from app import store
from tests.conftest import assert_error, unchanged

BOOKINGS = "/modules/booking/bookings"
CUSTOMERS = "/modules/booking/customers"
RESOURCES = "/modules/booking/resources"
BLOCKERS = "/modules/booking/blockers"


@pytest.fixture
def booking(make_resource, booked):
    return booked(make_resource()["id"], "2030-01-07T10:00:00Z")


def _records(client, admin_headers, make_resource, make_customer, booked) -> dict[str, str]:
    """The path of one record of each kind that has a single-record GET."""
    resource = make_resource()
    customer = make_customer()
    blocker = client.post(
        BLOCKERS,
        json={
            "resource_id": resource["id"],
            "start_time": "2030-02-01T00:00:00Z",
            "end_time": "2030-02-02T00:00:00Z",
        },
        headers=admin_headers,
    ).json["data"]
    v1 = client.get(f"/v1/customers/{customer['id']}", headers=admin_headers).json["data"]
    return {
        "customer": f"{CUSTOMERS}/{customer['id']}",
        "resource": f"{RESOURCES}/{resource['id']}",
        "booking": f"{BOOKINGS}/{booked(resource['id'], '2030-01-07T10:00:00Z')['id']}",
        "blocker": f"{BLOCKERS}/{blocker['id']}",
        "v1_customer": f"/v1/customers/{v1['id']}",
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (CUSTOMERS, {"name": "Ada"}),
        (RESOURCES, {"name": "Chair"}),
        ("/v1/customers", {"name": "Ada"}),
    ],
)
def test_every_create_answers_201_with_the_location_of_the_new_record(
    client, admin_headers, path, body
):
    response = client.post(path, json=body, headers=admin_headers)
    assert response.status_code == 201
    location = response.headers["Location"]
    assert location == f"{path}/{response.json['data']['id']}"
    assert client.get(location, headers=admin_headers).json["data"] == response.json["data"]


def test_booking_and_blocker_creates_carry_location_too(
    client, admin_headers, make_resource, booking
):
    response = client.post(
        BLOCKERS,
        json={
            "resource_id": booking["resource_id"],
            "start_time": "2030-03-01T00:00:00Z",
            "end_time": "2030-03-01T01:00:00Z",
        },
        headers=admin_headers,
    )
    assert response.headers["Location"] == f"{BLOCKERS}/{response.json['data']['id']}"
    body = {"resource_id": booking["resource_id"], "start_time": "2030-01-08T10:00:00Z"}
    made = client.post(BOOKINGS, json=body, headers=admin_headers)
    assert made.headers["Location"] == f"{BOOKINGS}/{made.json['data']['id']}"


def test_a_closure_names_each_blocker_it_made_instead_of_one_location(
    client, admin_headers, make_resource
):
    """A closure makes a blocker per resource: no one URL is what it made (RFC 9110 allows a
    201 without Location), so it sends none, and each blocker's own URL reads it back."""
    make_resource(name="Chair 1")
    make_resource(name="Chair 2")
    body = {"start_time": "2030-03-01T00:00:00Z", "end_time": "2030-03-02T00:00:00Z"}
    response = client.post("/modules/booking/closures", json=body, headers=admin_headers)
    assert response.status_code == 201 and "Location" not in response.headers
    made = response.json["data"]["blockers"]
    assert len(made) == 2
    for blocker in made:
        assert (
            client.get(f"{BLOCKERS}/{blocker['id']}", headers=admin_headers).json["data"] == blocker
        )


def test_a_replayed_create_carries_the_same_location(client, admin_headers, make_resource):
    body = {"resource_id": make_resource()["id"], "start_time": "2030-01-07T10:00:00Z"}
    headers = {**admin_headers, "Idempotency-Key": "retry-1"}
    first = client.post(BOOKINGS, json=body, headers=headers)
    again = client.post(BOOKINGS, json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]


def test_every_single_record_get_has_an_etag_and_answers_304_while_it_is_current(
    client, admin_headers, make_resource, make_customer, booked
):
    for kind, path in _records(client, admin_headers, make_resource, make_customer, booked).items():
        first = client.get(path, headers=admin_headers)
        tag = first.headers["ETag"]
        assert tag.startswith('"') and tag.endswith('"'), kind
        again = client.get(path, headers={**admin_headers, "If-None-Match": tag})
        assert again.status_code == 304, kind
        assert again.get_data() == b""
        assert again.headers["ETag"] == tag
        assert "X-RateLimit-Remaining" in again.headers
        other = client.get(path, headers={**admin_headers, "If-None-Match": '"other"'})
        assert other.status_code == 200 and other.json == first.json, kind


def test_a_change_gives_a_new_etag(client, admin_headers, booking):
    path = f"{BOOKINGS}/{booking['id']}"
    before = client.get(path, headers=admin_headers).headers["ETag"]
    client.patch(path, json={"title": "Cut"}, headers=admin_headers)
    after = client.get(path, headers={**admin_headers, "If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before
    assert after.json["data"]["title"] == "Cut"


def test_if_match_with_the_current_etag_lets_a_write_through_and_returns_the_new_etag(
    client, admin_headers, booking
):
    path = f"{BOOKINGS}/{booking['id']}"
    tag = client.get(path, headers=admin_headers).headers["ETag"]
    patched = client.patch(path, json={"title": "Cut"}, headers={**admin_headers, "If-Match": tag})
    assert patched.status_code == 200
    new_tag = patched.headers["ETag"]
    assert new_tag == client.get(path, headers=admin_headers).headers["ETag"] != tag
    moved = client.post(
        f"{path}/transition", json={"status": "confirmed"},
        headers={**admin_headers, "If-Match": new_tag},
    )  # fmt: skip
    assert moved.status_code == 200 and moved.json["data"]["status"] == "confirmed"


def test_two_counters_editing_one_booking_the_second_gets_412_and_changes_nothing(
    client, db, admin_headers, booking
):
    path = f"{BOOKINGS}/{booking['id']}"
    seen_by_both = client.get(path, headers=admin_headers).headers["ETag"]
    first = client.patch(
        path, json={"notes": "Wants a trim"}, headers={**admin_headers, "If-Match": seen_by_both}
    )
    assert first.status_code == 200
    stale = {**admin_headers, "If-Match": seen_by_both}
    with unchanged(db):
        writes = [
            client.patch(path, json={"notes": "Wants a perm"}, headers=stale),
            client.post(f"{path}/transition", json={"status": "cancelled"}, headers=stale),
            client.delete(path, headers=stale),
        ]
    for response in writes:
        error = assert_error(response, 412, "precondition_failed")
        assert "read it again" in error["message"]
    assert client.get(path, headers=admin_headers).json["data"]["notes"] == "Wants a trim"


@pytest.mark.parametrize("kind", ["customer", "resource", "blocker", "v1_customer"])
def test_stale_if_match_is_412_on_every_record_kind(
    client, db, admin_headers, make_resource, make_customer, booked, kind
):
    path = _records(client, admin_headers, make_resource, make_customer, booked)[kind]
    with unchanged(db):
        response = client.delete(path, headers={**admin_headers, "If-Match": '"not-current"'})
    assert_error(response, 412, "precondition_failed")
    tag = client.get(path, headers=admin_headers).headers["ETag"]
    current = client.delete(path, headers={**admin_headers, "If-Match": tag})
    if kind == "resource":  # past the precondition, the business rule: it has a booking
        assert_error(current, 422, "invalid_state")
    else:
        assert current.status_code == 200


def test_if_match_star_means_any_current_version_and_404_when_gone(client, admin_headers, booking):
    path = f"{BOOKINGS}/{booking['id']}"
    star = {**admin_headers, "If-Match": "*"}
    assert client.patch(path, json={"title": "x"}, headers=star).status_code == 200
    missing = client.patch(f"{BOOKINGS}/bk_missing", json={"title": "x"}, headers=star)
    assert_error(missing, 404, "not_found")


@pytest.mark.parametrize("header", ["W/{tag}", '""', "garbage", '"", W/""'])
def test_a_weak_empty_or_malformed_etag_never_satisfies_if_match(
    client, db, admin_headers, booking, header
):
    path = f"{BOOKINGS}/{booking['id']}"
    tag = client.get(path, headers=admin_headers).headers["ETag"]
    with unchanged(db):
        response = client.patch(
            path, json={"title": "x"}, headers={**admin_headers, "If-Match": header.format(tag=tag)}
        )
    assert_error(response, 412, "precondition_failed")


def test_a_gzip_etag_still_matches_its_record(client, admin_headers, make_customer):
    """flask-compress marks a compressed body's ETag with ":gzip"; the version is the same."""
    customer = make_customer(metadata={"notes": "x" * 3000})
    path = f"{CUSTOMERS}/{customer['id']}"
    zipped = client.get(path, headers={**admin_headers, "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    tag = zipped.headers["ETag"]
    assert tag.endswith(':gzip"')
    again = client.get(
        path, headers={**admin_headers, "Accept-Encoding": "gzip", "If-None-Match": tag}
    )
    assert again.status_code == 304
    patched = client.patch(path, json={"name": "Ada"}, headers={**admin_headers, "If-Match": tag})
    assert patched.status_code == 200


def test_if_match_check_and_write_are_one_unit_under_concurrent_writers(
    app, admin_headers, booking
):
    """Eight threads send the same If-Match at once: exactly one write goes through."""
    path = f"{BOOKINGS}/{booking['id']}"
    tag = app.test_client().get(path, headers=admin_headers).headers["ETag"]
    statuses: list[int] = []
    start = threading.Barrier(8)

    def write(n: int) -> None:
        client = app.test_client()
        start.wait()
        response = client.patch(
            path, json={"notes": f"desk {n}"}, headers={**admin_headers, "If-Match": tag}
        )
        statuses.append(response.status_code)
        store.close_thread_connections()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [412] * 7


def test_responses_with_shop_data_are_not_stored_by_caches(client, admin_headers, booking):
    for path in (BOOKINGS, f"{BOOKINGS}/{booking['id']}", CUSTOMERS, "/v1/customers", "/"):
        assert client.get(path, headers=admin_headers).headers["Cache-Control"] == "no-store"
    refused = client.get(CUSTOMERS)
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"


def test_public_documents_may_be_cached(client):
    for path in ("/openapi.json", "/docs/", "/static/app.css"):
        response = client.get(path)
        response.close()  # a static file is sent from an open file
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path


def test_large_responses_are_gzipped_when_the_client_accepts_it(client):
    plain = client.get("/openapi.json")
    zipped = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert len(zipped.get_data()) * 4 < len(plain.get_data())
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_small_responses_and_sync_pages_are_sent_as_they_are(client, make_key, admin_headers):
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
    page = client.get(
        "/sync/pull?limit=1000", headers={**make_key("sync"), "Accept-Encoding": "gzip"}
    )
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
