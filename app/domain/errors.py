"""The rules' refusals: plain exceptions with a stable code, a sentence and field details.

They know nothing of HTTP: the web layer's one table (app/web/errors.py) turns each into its status.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the rules refuse; `code` is the API's error code for it."""

    code: str = "invalid"
    message: str = "The rules refuse this."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = details or []
        self.extra = extra or {}
        super().__init__(self.message)


class NotFound(DomainError):
    """No record answers to the id the caller named."""

    code = "not_found"
    message = "Nothing exists with that id."


class InvalidInput(DomainError):
    """A value passed the request's shape but the rules cannot use it (say, an RRULE)."""

    code = "validation_error"
    message = "Some fields are invalid."


class UnknownResource(DomainError):
    code = "unknown_resource"


class UnknownCustomer(DomainError):
    code = "unknown_customer"


class SlotConflict(DomainError):
    code = "slot_conflict"


class InvalidState(DomainError):
    code = "invalid_state"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class UnknownService(DomainError):
    code = "unknown_service"


class ServiceNotOffered(DomainError):
    """The booking's resource does not perform the service it names."""

    code = "service_not_offered"


class InvalidCorrection(DomainError):
    """An undo the rules refuse: not the latest status change, too old, or a sync decision."""

    code = "invalid_correction"
