"""Errors on the pages are HTML pages with the same status and message the API would give."""

from __future__ import annotations

from collections.abc import Mapping

from flask import g, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app import store
from app.domain.shop_settings import ShopSettings
from app.web.errors import ApiError, api_error_for
from app.web.ui.blueprint import bp

TITLES = {
    400: "Form refused",
    401: "Sign in again",
    402: "No tokens left",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    413: "Too large",
    429: "Too many",
    503: "Cannot save now",
}


def _error_page(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    title = TITLES.get(status, "Something went wrong")
    html = render_template("error.html", status=status, title=title, message=message)
    return Response(html, status=status, headers=dict(headers or {}), mimetype="text/html")


@bp.errorhandler(ApiError)
def _api_error_page(error: ApiError) -> Response:
    return _error_page(error.status, error.message, error.headers)


@bp.errorhandler(HTTPException)
def _http_error_page(error: HTTPException) -> Response:
    return _error_page(error.code or 500, error.description or "That did not work.")


@bp.errorhandler(Exception)
def _unexpected_page(error: Exception) -> Response:
    if isinstance(error, store.StorageUnavailable):
        # The page's frame reads the shop's settings: asking a lost database again would keep
        # the person waiting as long again (the pool's timeout) for the same answer.
        g.setdefault("shop", ShopSettings())
    return _api_error_page(api_error_for(error))  # a full disk is a 503 page, a bug a 500
