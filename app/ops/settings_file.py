"""The settings file that `booking service install` writes and every `booking` command reads.

The installed service runs plain `booking serve --service`; the database, port and hub it was
installed with live in this file (TOML, readable only by its owner because it may hold the hub
key), so `booking open`, `booking doctor` and `booking backup` find the same database and port.
Precedence: command-line option, then environment variable, then this file, then the default.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from app.ops import paths
from app.settings import SETTINGS

HEADER = (
    "# Written by `booking service install`; read by every `booking` command.\n"
    "# An option on the command line or a BOOKING_* environment variable overrides a line here.\n"
)


class SettingsFileError(Exception):
    """The settings file cannot be read or written; the message is fit for a person."""


def read(path: Path | None = None) -> dict[str, Any]:
    """The file's settings by NAME (upper case, as in app.settings); {} when there is none."""
    path = path or paths.settings_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise SettingsFileError(
            f"Cannot read the settings file {path}: {error.strerror}."
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsFileError(
            f"The settings file {path} is not valid TOML ({error}); fix or delete it."
        ) from None
    unknown = sorted(name for name in data if name.upper() not in SETTINGS)
    if unknown:
        raise SettingsFileError(
            f"The settings file {path} has unknown settings ({', '.join(unknown)}); "
            "fix or delete it."
        )
    return {name.upper(): value for name, value in data.items()}


def apply_to_environment(path: Path | None = None) -> None:
    """Put the file's settings where the CLI's options look, without overriding the shell's."""
    for name, value in read(path).items():
        os.environ.setdefault(f"BOOKING_{name}", str(value))


def write(values: dict[str, Any], path: Path | None = None) -> Path:
    """Write `values` (NAME → str or int; None leaves the setting out), owner-only."""
    path = path or paths.settings_file()
    lines = [HEADER]
    for name, value in values.items():
        if value is None:
            continue
        assert name in SETTINGS, name
        # JSON's string escapes are a subset of TOML basic strings' (ensure_ascii keeps it so).
        text = str(value) if isinstance(value, int) else json.dumps(str(value))
        lines.append(f"{name.lower()} = {text}\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("".join(lines))
        os.chmod(path, 0o600)  # an older file may have been made with wider rights
    except OSError as error:
        raise SettingsFileError(
            f"Cannot write the settings file {path}: {error.strerror}."
        ) from None
    return path


def restore(path: Path, previous: str | None) -> None:
    """Put back the file's earlier text (None: there was no file), after a failed install."""
    if previous is None:
        path.unlink(missing_ok=True)
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(previous)
