"""Moves and corrections in the status machine (API.md §8, SYNC.md §5): every (status, event)
pair moves the booking or is an anomaly, a malformed change from another node included; the
claim that orders double bookings; and the signal that a booking's slot changed."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.times import parse_instant
from app.core.vocabulary import STATUSES
from app.domain.booking_states import UNDO_TARGETS, replay, slot_claim, step
from tests.unit.test_status_machine import CREATED, TARGETS, _booking, _event

TO = {
    "resource_id": "res_2",
    "start_time": "2030-01-07T14:00:00Z",
    "end_time": "2030-01-07T14:30:00Z",
}
FROM = {
    "resource_id": "res_1",
    "start_time": "2030-01-07T10:00:00Z",
    "end_time": "2030-01-07T11:00:00Z",
}


def moved(hlc: str, to: dict | None = None) -> dict:
    return _event("moved", hlc, data={"from": FROM, "to": to or TO})


def corrected(hlc: str, undone: str, restored: str) -> dict:
    return _event("corrected", hlc, from_status=undone, to_status=restored, data={"undoes": "x"})


def test_undo_goes_back_exactly_one_seed_move():
    assert UNDO_TARGETS == {
        "pending": (),
        "confirmed": ("pending",),
        "checked_in": ("confirmed",),
        "completed": ("checked_in",),
        "cancelled": ("pending", "confirmed"),
        "no_show": ("confirmed",),
    }


@pytest.mark.parametrize("status", STATUSES)
def test_a_move_applies_only_while_pending_or_confirmed(status):
    after, anomaly = step(_booking(status), moved("0002"))
    if status in ("pending", "confirmed"):
        assert anomaly is None
        assert (after["resource_id"], after["start_time"], after["end_time"]) == (
            "res_2",
            parse_instant(TO["start_time"]),
            parse_instant(TO["end_time"]),
        )
        assert after["status"] == status
    else:
        assert after == _booking(status)
        assert anomaly == f"A {status} booking cannot be moved; only pending or confirmed ones."


@pytest.mark.parametrize(
    "to",
    [
        None,
        {},
        {"resource_id": "r"},
        {**TO, "start_time": "soon"},
        {**TO, "end_time": 5},
        {**TO, "end_time": TO["start_time"]},
        "res_2",
    ],
)
def test_a_malformed_move_from_another_node_is_an_anomaly_not_an_error(to):
    event = _event("moved", "0002", data={"to": to})
    after, anomaly = step(_booking("pending"), event)
    assert after == _booking("pending") and anomaly == "The move names no valid resource and time."


@pytest.mark.parametrize(
    "status, undone, restored", list(itertools.product(STATUSES, STATUSES, STATUSES))
)
def test_every_correction_either_applies_or_is_an_anomaly(status, undone, restored):
    booking = {**_booking(status), "cancel_reason": "ill" if status == "cancelled" else None}
    after, anomaly = step(booking, corrected("0002", undone, restored))
    if status == undone and restored in UNDO_TARGETS[undone]:
        assert anomaly is None
        assert (after["status"], after["cancel_reason"]) == (restored, None)
    else:
        assert after == booking and anomaly


def test_a_correction_whose_status_is_gone_says_so():
    _, anomaly = step(_booking("confirmed"), corrected("0002", "no_show", "confirmed"))
    assert anomaly == "The no_show status to undo is gone: the booking is confirmed by now."


def test_two_moves_replay_to_the_later_one_whatever_the_arrival_order():
    later = moved(
        "0003", {**TO, "start_time": "2030-01-07T16:00:00Z", "end_time": "2030-01-07T17:00:00Z"}
    )
    for events in ([CREATED, moved("0002"), later], [later, moved("0002"), CREATED]):
        booking, anomalies = replay(events)
        assert anomalies == {}
        assert booking["start_time"] == parse_instant("2030-01-07T16:00:00Z")


def test_a_move_after_a_cancellation_is_kept_as_an_anomaly():
    cancel = _event("status_changed", "0002", to_status="cancelled")
    booking, anomalies = replay([CREATED, cancel, moved("0003")])
    assert booking["status"] == "cancelled" and booking["resource_id"] == "res_1"
    assert set(anomalies) == {"evt_0003"}


def test_the_claim_is_the_creation_the_last_move_or_the_undo_that_revived_it():
    assert slot_claim([CREATED]) == "0001"
    assert slot_claim([CREATED, moved("0002"), moved("0004")]) == "0004"
    confirm = _event("status_changed", "0002", to_status="confirmed")
    cancel = _event("status_changed", "0003", to_status="cancelled")
    revive = corrected("0005", "cancelled", "confirmed")
    assert slot_claim([CREATED, confirm, cancel, revive]) == "0005"
    check_in = _event("status_changed", "0006", to_status="checked_in")
    undo_check_in = corrected("0007", "checked_in", "confirmed")  # active all along
    assert slot_claim([CREATED, confirm, check_in, undo_check_in]) == "0001"
    cancelled_then_moved = [CREATED, cancel, moved("0004")]  # the move is not applied
    assert slot_claim(cancelled_then_moved) == "0001"


KINDS = ["updated", "status_changed", "moved", "corrected"]


@given(
    st.lists(
        st.tuples(st.sampled_from(KINDS), st.sampled_from(TARGETS), st.sampled_from(STATUSES)),
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_any_history_with_moves_and_corrections_replays_the_same_in_any_order(sequence, rng):
    events = [CREATED]
    for i, (kind, target, undone) in enumerate(sequence, start=2):
        if kind == "moved":
            events.append(moved(f"{i:04d}"))
        elif kind == "corrected":
            events.append(corrected(f"{i:04d}", undone, target))
        else:
            data = {"changed": {"title": {"from": None, "to": str(i)}}} if kind == "updated" else {}
            events.append(_event(kind, f"{i:04d}", to_status=target, data=data))
    shuffled = events[:]
    rng.shuffle(shuffled)
    assert replay(shuffled) == replay(events)
    booking, _ = replay(events)
    assert booking["status"] in STATUSES
    assert slot_claim(shuffled) == slot_claim(events)
