"""Instants follow the seed's exact ISO 8601 pattern (API.md §1 times)."""

import pytest

from app.core.times import format_instant, is_instant, parse_instant


@pytest.mark.parametrize(
    "text",
    [
        "2030-01-07T10:00:00Z",
        "2030-01-07T10:00Z",
        "2024-02-29T00:00:00Z",
        "2000-02-29T23:59:59.5Z",
        "2030-12-31T23:59:59.123456Z",
    ],
)
def test_valid_instants(text):
    assert is_instant(text)


@pytest.mark.parametrize(
    "text",
    [
        "2025-02-29T10:00:00Z",
        "1900-02-29T10:00:00Z",
        "2026-01-01T10:00:00+01:00",
        "2026-01-01 10:00",
        "2026-04-31T10:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T10:00:00",
        "2026-01-01",
        "",
        "2030-01-07T10:00:00Z\n",
        " 2030-01-07T10:00:00Z",
    ],
)
def test_invalid_instants(text):
    assert not is_instant(text)


def test_round_trip_to_milliseconds_and_back():
    assert format_instant(parse_instant("2030-01-07T10:00Z")) == "2030-01-07T10:00:00Z"
    assert format_instant(parse_instant("2030-01-07T10:00:00.25Z")) == "2030-01-07T10:00:00.250Z"


def test_fractions_finer_than_a_millisecond_are_truncated():
    assert (
        format_instant(parse_instant("2030-01-07T10:00:00.123999Z")) == "2030-01-07T10:00:00.123Z"
    )


def test_non_ascii_digits_are_refused_by_validation():
    from app.web.errors import ValidationFailed
    from app.web.models.bookings import BookingCreate
    from app.web.models.parsing import validate

    with pytest.raises(ValidationFailed):
        validate(
            BookingCreate,
            {"resource_id": "r", "start_time": "\uff12\uff10\uff13\uff10-01-07T10:00:00Z"},
        )


@pytest.mark.parametrize(
    "text", ["0000-02-29T23:44:18Z", "1899-12-31T23:59:59Z", "9000-01-01T00:00:00Z"]
)
def test_instants_outside_1900_to_8999_are_refused(text):
    from app.web.errors import ValidationFailed
    from app.web.models.bookings import BookingCreate
    from app.web.models.parsing import validate

    with pytest.raises(ValidationFailed):
        validate(BookingCreate, {"resource_id": "r", "start_time": text})


def test_times_before_1970_format_on_every_platform():
    assert format_instant(parse_instant("1900-01-01T00:00:00Z")) == "1900-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "text",
    [
        "1969-12-31T23:59:59.999Z",  # before the epoch: epoch arithmetic
        "1970-01-01T00:00:00Z",
        "2999-12-31T23:59:59.999Z",  # the last second gmtime formats on every platform
        "3000-01-01T00:00:00Z",  # from here, epoch arithmetic again
        "8999-12-31T23:59:59.001Z",
    ],
)
def test_every_accepted_year_formats_the_same_on_both_paths(text):
    assert format_instant(parse_instant(text)) == text
