"""The hub's sync protocol (SYNC.md §3, §4): a push body and a pull query."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from pydantic import ConfigDict, Field, model_validator, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from app.web.models.base import Body, Query
from sync.protocol import SYNC_PROTOCOL

MAX_PUSH_CHANGES = 500
HLC_PATTERN = r"^\d{16}-\d{5}-[0-9A-Za-z]{1,64}$"


# A TypedDict, not a model: the hub merges plain dicts, and validating into them directly
# costs half of building 500 models and dumping them again.
@with_config(ConfigDict(extra="forbid", strict=True, regex_engine="python-re"))
class WireChange(TypedDict):
    change_id: Annotated[str, Field(max_length=160)]
    origin_node: Annotated[str, Field(min_length=1, max_length=64)]
    origin_seq: Annotated[int, Field(ge=1)]
    hlc: Annotated[str, Field(pattern=HLC_PATTERN)]
    entity: Annotated[str, Field(min_length=1, max_length=32)]
    entity_id: Annotated[str, Field(min_length=1, max_length=160)]
    op: Annotated[str, Field(min_length=1, max_length=16)]
    payload: dict[str, Any]
    # Absent means false; a TypedDict has no defaults, so the schema states it.
    clock_suspect: NotRequired[Annotated[bool, Field(json_schema_extra={"default": False})]]


class LineageEntry(Body):
    node_id: Annotated[str, Field(min_length=1, max_length=64)]
    through: Annotated[int, Field(ge=0, description="The last change of that node it shares.")]
    at: Annotated[int, Field(ge=0, description="When it left that node, in ms since 1970.")] = 0


class SyncPush(Body):
    protocol: Annotated[int, Field(description="Major protocol version; this hub speaks 1.")]
    node_id: Annotated[str, Field(min_length=1, max_length=64)]
    changes: Annotated[list[WireChange], Field(max_length=MAX_PUSH_CHANGES)]
    lineage: Annotated[
        list[LineageEntry],
        Field(
            max_length=1000,
            description="The node ids this database had before it was restored or copied, "
            "oldest first (SYNC.md §3a). A sync key bound to one of them serves this node.",
        ),
    ] = []
    lineage_token: Annotated[
        str | None,
        Field(
            min_length=16,
            max_length=128,
            description="A secret made with the database and copied with it: it shows the "
            "hub that this node descends from the node its sync key was bound to.",
        ),  # fmt: skip
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _known_protocol(cls, data: Any) -> Any:
        # Checked before the shape: a newer protocol may shape its body differently, and the
        # node must learn that it is the protocol (409), not a field (422). ApiErrors are not
        # ValueErrors, so pydantic lets this one through to the error handler.
        from app.web.errors import ProtocolMismatch

        if isinstance(data, dict) and data.get("protocol") != SYNC_PROTOCOL:
            raise ProtocolMismatch(
                f"This hub speaks sync protocol {SYNC_PROTOCOL}; upgrade the older side.",
                extra={"expected_protocol": SYNC_PROTOCOL},
            )
        return data


class SyncPullQuery(Query):
    cursor: str | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 500
    node_id: Annotated[str, Field(max_length=64)] | None = None
    # Leave out the puller's own changes (it holds them); older hubs ignore this.
    skip_own: bool = False
