"""app.core.json_codec: json's results at orjson's speed, and one canonical text per value."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core import json_codec

# JSON values as Python's json reads them: integers of any size, finite floats, any text that
# UTF-8 can hold (lone surrogates cannot be stored, so they never reach an encoder).
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]))
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), children, max_size=4)
    ),
    max_leaves=12,
)
# The text that storage wrote for its JSON columns before json_codec.
_old_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode


def _same(a, b) -> bool:
    """Equal and of the same types all the way down (2**70 == float(2**70) in Python, and
    NaN is not NaN): their json texts are equal."""
    return _old_dumps(a) == _old_dumps(b)


@given(values)
def test_the_canonical_text_reads_back_as_the_same_value_and_is_stable(value):
    text = json_codec.dumps(value)
    assert _same(json.loads(text), value)
    assert json_codec.dumps(json_codec.loads(text)) == text


@given(values.filter(lambda value: "." not in repr(value) and "e" not in repr(value)))
def test_without_floats_the_canonical_text_is_what_storage_wrote_before(value):
    # Only float spelling differs (1e-07 became 1e-7): old rows read back as the same values.
    assert json_codec.dumps(value) == _old_dumps(value)


@given(values, st.sampled_from([None, 2]), st.booleans())
def test_reading_gives_what_json_gives_whatever_the_layout(value, indent, as_bytes):
    text = json.dumps(value, indent=indent)
    assert _same(json_codec.loads(text.encode() if as_bytes else text), json.loads(text))


@pytest.mark.parametrize(
    "number", [2**64 - 1, 2**64, 2**70, -(2**63), -(2**63) - 1, 10**40, -(10**19)]
)
def test_integers_beyond_64_bits_keep_every_digit_both_ways(number):
    value = {"n": number, "nested": [{"n": number}]}
    text = json_codec.dumps(value)
    assert text == _old_dumps(value)
    assert _same(json_codec.loads(text), value)
    assert _same(json_codec.loads(text.encode()), value)


@pytest.mark.parametrize(
    "text",
    [
        '{"n": NaN}',
        "[-Infinity]",
        "[1e400]",
        '["\\ud800"]',
        b"\xef\xbb\xbf[1]",
        '["utf-16"]'.encode("utf-16"),
        "[" * 300 + "]" * 300,
    ],
)
def test_what_the_fast_reader_refuses_but_json_reads_is_still_read(text):
    assert _same(json_codec.loads(text), json.loads(text))


@pytest.mark.parametrize("text", ["", "{", '{"a": 1} x', b"\xff", "[01]"])
def test_what_json_refuses_is_a_value_error(text):
    with pytest.raises(ValueError):
        json_codec.loads(text)


@given(values)
def test_a_response_body_is_the_value_json_would_write(value):
    assert json.loads(json_codec.dumps_response(value)) == json.loads(json.dumps(value))


def test_a_response_body_keeps_key_order_and_writes_utf8():
    body = json_codec.dumps_response({"id": "bk_1", "name": "Zoë", "a": [2**70]})
    assert body.decode() == '{"id":"bk_1","name":"Zoë","a":[1180591620717411303424]}'


def test_a_response_body_leaves_what_json_cannot_write_to_default():
    when = datetime(2030, 1, 1, tzinfo=UTC)
    assert (
        json_codec.dumps_response({"at": when}, default=str)
        == b'{"at":"2030-01-01 00:00:00+00:00"}'
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"[]{}'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


def _nesting(value) -> int:
    """depth() written the obvious, recursive way."""
    children = value.values() if isinstance(value, dict) else value
    if not isinstance(value, (dict, list)):
        return 0
    return 1 + max((_nesting(child) for child in children), default=0)


@given(json_values)
def test_depth_counts_nested_arrays_and_objects(value):
    assert json_codec.depth(value) == _nesting(value)


# Values nested around the limit, whose strings hold brackets (and, escaped, quotes): read_body
# measures a body's nesting from its text when it can, and must agree with the value's.
def _wrapped(levels: int, inner):
    for level in range(levels):
        inner = [inner, "]"] if level % 2 else {"[{": inner, "k": "}}"}
    return inner


around_the_limit = st.builds(
    _wrapped,
    st.integers(min_value=json_codec.MAX_DEPTH - 4, max_value=json_codec.MAX_DEPTH + 2),
    json_values,
)


@given(around_the_limit, st.booleans())
def test_a_body_is_refused_exactly_when_it_nests_deeper_than_the_limit(value, ascii_only):
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    if _nesting(value) > json_codec.MAX_DEPTH:
        with pytest.raises(json_codec.BodyRefused, match="more than 64 levels deep"):
            json_codec.read_body(body)
    else:
        assert _same(json_codec.read_body(body), value)
