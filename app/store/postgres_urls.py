"""PostgreSQL URLs as people write them: checked before use, and shown without the password."""

from __future__ import annotations

import re

import psycopg
from psycopg.conninfo import conninfo_to_dict

from app.store.errors import CannotOpen

URL_FORM = "postgresql://USER:PASSWORD@HOST:PORT/NAME"


def check_url(url: str) -> None:
    """Raise CannotOpen with a sentence for a person when `url` is no database URL libpq takes
    (a port that is no number, a stray query parameter, a broken %-escape)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        problem = first_line(error)
    else:
        port = str(parts.get("port") or "5432")
        if all(p.isdigit() and 0 < int(p) < 65536 for p in port.split(",")):
            return
        problem = f"the port {port!r} is not a number from 1 to 65535"
    raise CannotOpen(
        f"The database URL {redact(url)} is not valid ({problem}); write it as {URL_FORM}"
    )


def first_line(error: BaseException) -> str:
    """libpq's message without its hints on later lines or psycopg's "connection failed: "."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.removeprefix("connection failed: ").rstrip(".")


def redact(url: str) -> str:
    """The URL without its password, fit for a log line or an error message."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
