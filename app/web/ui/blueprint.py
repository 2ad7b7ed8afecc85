"""The `ui` blueprint itself, in a module of its own so every area module can import it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ui", __name__, url_prefix="")
