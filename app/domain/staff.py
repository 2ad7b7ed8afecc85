"""Staff accounts for the counter: a name and a PIN or password, and a role that is a scope.

Only an argon2id hash of the secret is kept (argon2-cffi). After MAX_FAILURES wrong secrets in a
row the account is locked for LOCK_MINUTES, so a 4-digit PIN cannot be guessed by trying them
all; a right secret resets the count. Node-local, never synced: each laptop has its own staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.domain.errors import InvalidInput, NotFound
from app.store import Connection
from app.store import staff as stored

ROLES = {
    "booking:read": "Looks only",
    "booking:write": "Counter: books, moves, edits",
    "booking:admin": "Manager: also deletes, staff and settings",
}
MIN_SECRET, MAX_SECRET = 4, 128
MAX_NAME = 64
MAX_FAILURES = 5
LOCK_MINUTES = 15
_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs as long as a wrong PIN.
_DUMMY_HASH = _hasher.hash("not a secret anyone has")

Member = dict[str, Any]


class SignInRefused(Exception):
    """A sign-in that did not pass; the message is fit for the person at the counter."""

    def __init__(self, message: str, *, locked_until: int | None = None) -> None:
        self.message = message
        self.locked_until = locked_until
        super().__init__(message)


@dataclass(frozen=True)
class NewMember:
    name: str
    role: str
    secret: str


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _check(member: NewMember, db: Connection, *, existing_id: str | None = None) -> None:
    details = []
    name = " ".join(member.name.split())
    if not name or len(name) > MAX_NAME:
        details.append({"field": "name", "message": f"Give a name of 1 to {MAX_NAME} characters."})
    else:
        holder = stored.by_name_key(db, name_key(name))
        if holder is not None and holder["id"] != existing_id:
            details.append(
                {"field": "name", "message": f"{holder['name']} already has an account."}
            )
    if member.role not in ROLES:
        details.append({"field": "role", "message": "Choose one of the roles listed."})
    if not MIN_SECRET <= len(member.secret) <= MAX_SECRET:
        message = f"Use {MIN_SECRET} to {MAX_SECRET} characters (a PIN of 4 digits or more)."
        details.append({"field": "secret", "message": message})
    if details:
        raise InvalidInput(details=details)


def create(db: Connection, member: NewMember) -> Member:
    """A new staff account. Raises InvalidInput naming each bad field; makes nothing then."""
    with store.transaction(db):
        _check(member, db)
        now = wall_ms()
        name = " ".join(member.name.split())
        record = {
            "id": new_id("stf"),
            "name": name,
            "name_key": name_key(name),
            "role": member.role,
            "secret_hash": _hasher.hash(member.secret),
            "failed_attempts": 0,
            "locked_until": None,
            "created_at": now,
            "updated_at": now,
        }
        stored.insert(db, record)
    return record


def get(db: Connection, staff_id: str) -> Member:
    member = stored.get(db, staff_id)
    if member is None:
        raise NotFound(f"No staff member has the id {staff_id!r}.")
    return member


def find(db: Connection, staff_id: str) -> Member | None:
    return stored.get(db, staff_id)


def everyone(db: Connection) -> list[Member]:
    return stored.list_all(db)


def change(db: Connection, staff_id: str, *, role: str, secret: str | None) -> Member:
    """A new role, and a new PIN when one is given (which also unlocks the account)."""
    with store.transaction(db):
        member = get(db, staff_id)
        _check(
            NewMember(member["name"], role, secret or "x" * MIN_SECRET), db, existing_id=staff_id
        )
        changes: dict[str, Any] = {"role": role, "updated_at": wall_ms()}
        if secret:
            changes |= {"secret_hash": _hasher.hash(secret), "failed_attempts": 0}
            changes["locked_until"] = None
        stored.update(db, staff_id, changes)
    return {**member, **changes}


def unlock(db: Connection, staff_id: str) -> Member:
    with store.transaction(db):
        member = get(db, staff_id)
        changes = {"failed_attempts": 0, "locked_until": None, "updated_at": wall_ms()}
        stored.update(db, staff_id, changes)
    return {**member, **changes}


def remove(db: Connection, staff_id: str) -> Member:
    """Delete the account; its browser sessions end with it."""
    with store.transaction(db):
        member = get(db, staff_id)
        stored.delete(db, staff_id)
    return member


def verify(db: Connection, name: str, secret: str, *, now: int | None = None) -> Member:
    """The staff member whose name and PIN these are. Raises SignInRefused: wrong name or PIN
    (one message for both), or locked after MAX_FAILURES wrong PINs in a row."""
    now = wall_ms() if now is None else now
    with store.transaction(db):
        member = stored.by_name_key(db, name_key(name))
        if member is None:
            _matches(_DUMMY_HASH, secret)
            raise SignInRefused("That name and PIN do not match an account.")
        if member["locked_until"] is not None and member["locked_until"] > now:
            raise SignInRefused(_locked_message(), locked_until=member["locked_until"])
        if _matches(member["secret_hash"], secret):
            changes: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
            if _hasher.check_needs_rehash(member["secret_hash"]):
                changes["secret_hash"] = _hasher.hash(secret)
            stored.update(db, member["id"], changes)
            return {**member, **changes}
        failures = member["failed_attempts"] + 1
        locked_until = now + LOCK_MINUTES * 60_000 if failures >= MAX_FAILURES else None
        stored.update(
            db,
            member["id"],
            {"failed_attempts": 0 if locked_until else failures, "locked_until": locked_until},
        )
    if locked_until is not None:
        raise SignInRefused(_locked_message(), locked_until=locked_until)
    # The same sentence as for an unknown name: a wrong PIN does not tell that the name exists.
    raise SignInRefused("That name and PIN do not match an account.")


def _locked_message() -> str:
    return (
        f"Too many wrong PINs: this account is locked for {LOCK_MINUTES} minutes. "
        "A manager can unlock it on the Staff page."
    )


def _matches(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False
