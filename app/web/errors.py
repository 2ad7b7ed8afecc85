"""The API's error envelope and the one place exceptions become HTTP responses.

Every error response has the shape
`{"status": "error", "error": {"code", "message", "details": [{"field", "message"}]}}`.

| status | code                 | raised when |
|--------|----------------------|-------------|
| 400    | bad_request          | the body is not valid JSON or not a JSON object |
| 401    | unauthorized         | the bearer key is missing, malformed, unknown or revoked |
| 402    | insufficient_tokens  | the key's token balance is spent |
| 403    | forbidden            | the key lacks the route's scope |
| 404    | not_found            | no such route or no record with that id |
| 405    | method_not_allowed   | the route exists but not with this method |
| 409    | sequence_gap         | a sync push starts past the hub's next expected sequence |
| 409    | protocol_mismatch    | a sync push names an unknown protocol version |
| 409    | change_id_reused     | a sync push re-sends a held change id with other content |
| 409    | sync_key_in_use      | another live copy of this database syncs with this sync key |
| 412    | precondition_failed  | If-Match names a version of the record that is no longer current |
| 413    | payload_too_large    | the body is over 1 MiB |
| 415    | unsupported_media_type | a body sent with a Content-Type that is not JSON |
| 422    | validation_error     | a field, query parameter or cursor is invalid or unknown |
| 422    | unknown_resource     | a booking or blocker names a resource that does not exist |
| 422    | unknown_customer     | a booking names a customer that does not exist |
| 422    | unknown_service      | a booking names a service that does not exist |
| 422    | service_not_offered  | a booking names a service its resource does not perform |
| 422    | slot_conflict        | the slot overlaps an active booking or a blocker |
| 422    | invalid_state        | the record's state forbids this change |
| 422    | invalid_transition   | the status move is not allowed from the booking's status |
| 422    | invalid_correction   | the rules refuse this undo of a status (README § Corrections) |
| 422    | idempotency_mismatch | an Idempotency-Key is reused with a different body |
| 429    | rate_limited         | the key is over its rate limit |
| 500    | internal_error       | a bug; logged server-side, never described to the client |
| 503    | storage_full         | the disk holding the database is full; nothing was written |
| 503    | storage_unavailable  | the database is read-only or unreachable; nothing was written |
| 503    | storage_busy         | another transaction got in the way; nothing was written |
| 503    | request_too_expensive | past its deadline (app/core/deadline.py); retry or ask for less |

Every 503 carries `Retry-After`; writes work again by themselves once the cause is gone.

The domain and storage raise plain exceptions that know no status (app/domain/errors.py,
store.RowMissing); `DOMAIN_ERRORS` below is the one table that gives each its answer here.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from app import store
from app.core import deadline
from app.domain import errors as domain
from sync import errors as sync_refusals

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


class ApiError(Exception):
    """An error the client caused or can act on; carries its HTTP status and stable code."""

    status: int = 400
    code: str = "bad_request"
    message: str = "The request could not be understood."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = details or []
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        error.update(self.extra)
        return {"status": "error", "error": error}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"
    message = "Send a valid API key as 'Authorization: Bearer <key>'."


class InsufficientTokens(ApiError):
    status, code = 402, "insufficient_tokens"
    message = "This API key has no tokens left; ask an admin to top it up."


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"
    message = "Nothing exists at this address."


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class SequenceGap(ApiError):
    status, code = 409, "sequence_gap"


class ProtocolMismatch(ApiError):
    status, code = 409, "protocol_mismatch"


class ChangeIdReused(ApiError):
    """The hub holds one of the pushed change ids with other content: the pushing database is
    a copy that wrote under its original's id. It takes an id of its own and re-issues them."""

    status, code = 409, "change_id_reused"


class SyncKeyInUse(ApiError):
    """Two live databases claim one sync key: the one refused needs a key of its own."""

    status, code = 409, "sync_key_in_use"


class PreconditionFailed(ApiError):
    """If-Match named an ETag the record no longer has: someone changed it since it was read."""

    status, code = 412, "precondition_failed"
    message = "This record has changed since you read it; read it again (its new ETag) and retry."


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"
    message = "Send the body as JSON, with 'Content-Type: application/json'."


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"
    message = "The request body is larger than 1 MiB."


class ValidationFailed(ApiError):
    status, code = 422, "validation_error"
    message = "Some fields are invalid."


class UnknownResource(ApiError):
    status, code = 422, "unknown_resource"


class UnknownCustomer(ApiError):
    status, code = 422, "unknown_customer"


class UnknownService(ApiError):
    status, code = 422, "unknown_service"


class ServiceNotOffered(ApiError):
    status, code = 422, "service_not_offered"


class InvalidCorrection(ApiError):
    status, code = 422, "invalid_correction"


class SlotConflict(ApiError):
    status, code = 422, "slot_conflict"


class InvalidState(ApiError):
    status, code = 422, "invalid_state"


class InvalidTransition(ApiError):
    status, code = 422, "invalid_transition"


class IdempotencyMismatch(ApiError):
    status, code = 422, "idempotency_mismatch"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"
    message = "Too many requests for this API key; wait and retry."


class RequestTooExpensive(ApiError):
    status, code = 503, "request_too_expensive"
    message = "This request needed too much work and was stopped; ask for less."


class InternalError(ApiError):
    status, code = 500, "internal_error"
    message = "Something went wrong on our side; it has been logged."


# Long enough for an administrator to free space; a client that retries sooner just gets 503.
STORAGE_RETRY_AFTER_S = 30


class StorageFull(ApiError):
    status, code = 503, "storage_full"
    message = (
        "The server's disk is full, so nothing was saved; try again once space has been freed."
    )


class StorageUnavailable(ApiError):
    status, code = 503, "storage_unavailable"
    message = (
        "The server's database cannot be written right now (it is read-only or unreachable), "
        "so nothing was saved; try again later."
    )


# A deadlock ends at once: the other transaction goes on, and a retry a second later passes.
BUSY_RETRY_AFTER_S = 1


class StorageBusy(ApiError):
    status, code = 503, "storage_busy"
    message = "Another change to the same records got in the way, so nothing was saved; try again."


def storage_error(problem: str, **extra: Any) -> ApiError:
    """The 503 for a storage problem ("full" or "read_only"), with its Retry-After."""
    cls = StorageFull if problem == "full" else StorageUnavailable
    return cls(headers={"Retry-After": str(STORAGE_RETRY_AFTER_S)}, extra=extra)


# The one place a domain or storage refusal becomes an HTTP answer: same code, message, details.
DOMAIN_ERRORS: dict[type[Exception], type[ApiError]] = {
    store.RowMissing: NotFound,
    domain.NotFound: NotFound,
    domain.InvalidInput: ValidationFailed,
    domain.UnknownResource: UnknownResource,
    domain.UnknownCustomer: UnknownCustomer,
    domain.SlotConflict: SlotConflict,
    domain.UnknownService: UnknownService,
    domain.ServiceNotOffered: ServiceNotOffered,
    domain.InvalidCorrection: InvalidCorrection,
    domain.InvalidState: InvalidState,
    domain.InvalidTransition: InvalidTransition,
    deadline.DeadlinePassed: RequestTooExpensive,
    sync_refusals.SequenceGap: SequenceGap,
    sync_refusals.ChangeIdReused: ChangeIdReused,
    sync_refusals.SyncKeyInUse: SyncKeyInUse,
    sync_refusals.NotThisKeysNode: Forbidden,
}


def from_domain(error: Exception) -> ApiError | None:
    """The ApiError answering a domain or storage refusal, or None if `error` is not one."""
    for cls in type(error).__mro__:
        answer = DOMAIN_ERRORS.get(cls)
        if answer is not None:
            retry_after = getattr(error, "retry_after_s", None)
            return answer(
                getattr(error, "message", None) or str(error),
                details=getattr(error, "details", None),
                extra=getattr(error, "extra", None),
                headers={"Retry-After": str(retry_after)} if retry_after else None,
            )
    return None


def refusals_as_api_errors(call: Callable[P, R]) -> Callable[P, R]:
    """Raise a domain or storage refusal from `call` as its ApiError.

    For callers that catch ApiError to show a refusal beside a form (the UI's pages); the
    API's routes would get the same answer from the error handler without it.
    """

    @functools.wraps(call)
    def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return call(*args, **kwargs)
        except (domain.DomainError, store.RowMissing, deadline.DeadlinePassed) as error:
            answer = from_domain(error)
            assert answer is not None  # every domain error class is in DOMAIN_ERRORS
            raise answer from error

    return translated


def error_response(error: ApiError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def status_of(code: str) -> int:
    """The HTTP status an error code is always answered with (the table above)."""
    todo: list[type[ApiError]] = [ApiError]
    while todo:
        cls = todo.pop()
        if cls.code == code:
            return cls.status
        todo += cls.__subclasses__()
    raise KeyError(code)


_HTTP_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def register_error_handlers(app: Flask) -> None:
    """Translate every exception, ours or werkzeug's, into the spec's envelope."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Response:
        cls = _HTTP_ERRORS.get(error.code or 500)
        if cls is None:
            log.warning("Unmapped HTTP error %s", error.code)
            cls = InternalError if (error.code or 500) >= 500 else BadRequest
        api_error = cls()
        if cls is MethodNotAllowed:
            api_error.message = "This route does not accept that method."
        response = error_response(api_error)
        if cls is MethodNotAllowed and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        return error_response(api_error_for(error))


def api_error_for(error: Exception) -> ApiError:
    """The answer to an exception no view caught: a domain or storage refusal's own (the
    table above), a 503 when the store cannot store anything now (full disk, read-only file,
    a lost database) or another transaction got in the way, else a logged 500 that tells the
    client nothing more."""
    refusal = from_domain(error)
    if refusal is not None:
        return refusal
    if isinstance(error, store.Contention):
        log.warning("Refused a request: it ran into another transaction: %s", error)
        return StorageBusy(headers={"Retry-After": str(BUSY_RETRY_AFTER_S)})
    if isinstance(error, store.StorageProblem):
        log.warning(
            "Refused a request: the database cannot be written (%s): %s", error.problem, error
        )
        return storage_error(error.problem)
    log.exception("Unhandled error while serving a request")
    return InternalError()
