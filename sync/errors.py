"""The hub's refusals of a push or pull: plain exceptions with the API's codes.

Like the domain's (app/domain/errors.py) they know nothing of HTTP; the web layer's one table
(app/web/errors.py DOMAIN_ERRORS) gives each its status.
"""

from __future__ import annotations

from app.domain.errors import DomainError


class SequenceGap(DomainError):
    """A batch starts past the next change the hub expects from that node."""

    code = "sequence_gap"


class ChangeIdReused(DomainError):
    """The hub holds one of the pushed change ids with other content: the pushing database is
    a copy that wrote under its original's id. It takes an id of its own and re-issues them."""

    code = "change_id_reused"


class SyncKeyInUse(DomainError):
    """Two live databases claim one sync key: the one refused needs a key of its own."""

    code = "sync_key_in_use"


class NotThisKeysNode(DomainError):
    """The sync key belongs to another node, or a node pushed changes it did not originate."""

    code = "forbidden"
