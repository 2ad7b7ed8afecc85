"""The hybrid logical clock (SYNC.md §1), driven by an injected wall clock."""

from hypothesis import given
from hypothesis import strategies as st

from app.core.clock import MAX_COUNTER, MAX_FUTURE_DRIFT_MS, Hlc, is_suspect, receive, tick

NODE = "01NODEAAAAAAAAAAAAAAAAAAAA"
OTHER = "01NODEBBBBBBBBBBBBBBBBBBBB"


def test_first_stamp_is_the_wall_clock_with_counter_zero():
    assert tick(None, NODE, 1_000) == f"0000000000001000-00000-{NODE}"


def test_stamps_sort_as_strings_in_clock_order():
    assert Hlc(999, 5, NODE).encode() < Hlc(1000, 0, NODE).encode()
    assert Hlc(1000, 9, NODE).encode() < Hlc(1000, 10, NODE).encode()


def test_clock_never_goes_backwards_when_the_wall_clock_steps_back():
    first = tick(None, NODE, 10_000)
    second = tick(first, NODE, 5_000)  # NTP stepped the wall clock back five seconds
    third = tick(second, NODE, 5_001)
    assert first < second < third
    assert Hlc.decode(third).millis == 10_000


def test_counter_resets_when_the_wall_clock_moves_on():
    stamp = tick(tick(None, NODE, 1_000), NODE, 1_000)
    assert Hlc.decode(stamp).counter == 1
    assert Hlc.decode(tick(stamp, NODE, 2_000)) == Hlc(2_000, 0, NODE)


def test_counter_overflow_borrows_the_next_millisecond():
    last = Hlc(1_000, MAX_COUNTER, NODE).encode()
    assert Hlc.decode(tick(last, NODE, 1_000)) == Hlc(1_001, 0, NODE)


def test_clock_moves_past_a_remote_stamp_from_a_faster_clock():
    local = tick(None, NODE, 1_000)
    remote = Hlc(50_000, 7, OTHER).encode()
    moved = receive(local, remote, NODE, wall_ms=1_000)
    assert moved is not None
    assert tick(moved, NODE, 1_000) > remote


def test_remote_stamp_behind_us_does_not_move_the_clock():
    local = tick(None, NODE, 90_000)
    assert receive(local, Hlc(50_000, 0, OTHER).encode(), NODE, wall_ms=90_000) is None


def test_stamp_more_than_five_minutes_ahead_is_suspect_and_not_adopted():
    wall = 1_000_000
    remote = Hlc(wall + MAX_FUTURE_DRIFT_MS + 1, 0, OTHER).encode()
    assert is_suspect(remote, wall)
    assert receive(tick(None, NODE, wall), remote, NODE, wall_ms=wall) is None


def test_stamp_just_inside_five_minutes_is_adopted():
    wall = 1_000_000
    remote = Hlc(wall + MAX_FUTURE_DRIFT_MS, 0, OTHER).encode()
    assert not is_suspect(remote, wall)
    assert receive(None, remote, NODE, wall_ms=wall) is not None


@given(st.lists(st.integers(min_value=0, max_value=10**13), min_size=1, max_size=50))
def test_ticks_strictly_increase_whatever_the_wall_clock_does(walls):
    last = None
    for wall in walls:
        stamp = tick(last, NODE, wall)
        assert last is None or stamp > last
        last = stamp
