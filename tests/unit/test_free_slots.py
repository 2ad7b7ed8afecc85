"""free_slots against the definition: a slot is free when its [start, end + buffer) overlaps no
busy item. Items of very different lengths are where a shortcut would go wrong."""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.availability import Interval, free_slots, overlaps

items = st.builds(
    lambda start, length: Interval(start, start + length, "x"),
    st.integers(0, 3000),
    st.one_of(st.integers(1, 30), st.integers(200, 3000)),  # short breaks and long closures
)


@settings(max_examples=300)
@given(
    busy=st.lists(items, max_size=25),
    duration=st.integers(1, 60),
    step=st.integers(1, 45),
    buffer=st.integers(0, 20),
    window=st.tuples(st.integers(0, 1500), st.integers(1, 2000)),
)
def test_free_slots_are_exactly_the_slots_that_overlap_nothing(
    busy, duration, step, buffer, window
):
    window_interval = Interval(window[0], window[0] + window[1], "")
    span = Interval(0, 4000, "")
    found = free_slots(
        window=window_interval,
        duration=duration,
        step=step,
        buffer=buffer,
        open_spans=[span],
        busy=busy,
    )
    expected = [
        Interval(start, start + duration, "")
        for start in range(0, span.end, step)
        if start >= window_interval.start
        and start + duration <= window_interval.end
        and not any(overlaps(Interval(start, start + duration + buffer, ""), b) for b in busy)
    ]
    assert found == expected
