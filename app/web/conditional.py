"""ETags and conditional requests (RFC 9110 §8.8.3, §13): If-None-Match and If-Match.

If-None-Match on reads, If-Match on writes, so two counters editing one booking cannot
overwrite each other unseen.

A record's ETag is a hash of the body its GET answers, so it changes whenever anything a
client can read of the record changes (a booking's events and conflicts included). A write
that carries If-Match re-reads that body inside the write's own transaction and goes ahead only
if the ETag still matches: the check and the write are one unit, whoever else writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Response, current_app, request
from werkzeug.http import generate_etag

from app.web.errors import PreconditionFailed

# flask-compress marks a compressed body's ETag with its coding ("…:gzip"); the record's
# version is the same whichever coding carried it, so If-Match compares without it.
_CODINGS = (":gzip", ":br", ":zstd", ":deflate")


def etag_of(response: Response) -> str:
    """The strong ETag (without quotes) of a response's uncompressed body."""
    return generate_etag(response.get_data())


def _versions(tags: Iterable[str]) -> set[str]:
    """The record versions `tags` name, without a compression coding's suffix."""
    found = set()
    for tag in tags:
        if not tag:  # werkzeug reads an empty tag ("") as None: it names no version
            continue
        for coding in _CODINGS:
            tag = tag.removesuffix(coding)
        found.add(tag)
    return found


def answer_read(response: Response) -> Response:
    """Add the ETag to a record's 200; answer 304 when If-None-Match already names it."""
    if response.status_code != 200:
        return response
    tag = etag_of(response)
    response.set_etag(tag)
    wanted = request.if_none_match
    if wanted and (wanted.star_tag or tag in _versions(wanted.as_set(include_weak=True))):
        not_modified = current_app.response_class(status=304)
        not_modified.set_etag(tag)
        return not_modified
    return response


def precondition(read: Callable[[], Response]) -> Callable[[], None] | None:
    """The If-Match check for a write, or None when the request sent no If-Match.

    `read` renders the record's GET body; the check raises 412 precondition_failed unless its
    ETag is one If-Match names (or If-Match is `*`: any current version). Weak tags never
    match (strong comparison, RFC 9110 §13.1.1). Call it inside the write's transaction.
    """
    expected = request.if_match
    if not expected:
        return None
    strong = _versions(expected.as_set())  # weak tags left out

    def check() -> None:
        if expected.star_tag:
            read()  # 404 when the record is gone
            return
        if etag_of(read()) not in strong:
            raise PreconditionFailed()

    return check
