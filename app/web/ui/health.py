"""The health page, and the banner every page shows when something needs a person.

The banner runs the quick checks only (disk, sync, clock, backups, the integrity check taken
with the last backup): a few system calls and one read of the sync state per page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, g, render_template

from app.core.times import wall_ms
from app.ops import backups, health
from app.web.api import db
from app.web.ui.blueprint import bp

SHOWN_BACKUPS = 10


def _where() -> health.Where:
    config = current_app.config
    return health.Where(
        config["DB"], Path(config["BACKUP_DIR"]), config.get("HUB_URL"), config["DISK_WARN_MB"]
    )


def _checks() -> list[health.Check]:
    if "health_checks" not in g:
        g.health_checks = health.run(db(), _where(), live_integrity=False)
    return g.health_checks


def health_alerts() -> list[health.Check]:
    """The checks that need a person, for the banner (signed-in pages only)."""
    return health.needing_person(_checks()) if g.get("api_key") is not None else []


@bp.context_processor
def _health_helpers() -> dict[str, Any]:
    return {"health_alerts": health_alerts}


@bp.get("/health")
def health_page() -> str:
    """Every check with its sentence, the newest backups, and where the files are."""
    folder = Path(current_app.config["BACKUP_DIR"])
    newest_first = list(reversed(backups.list_backups(folder)))[:SHOWN_BACKUPS]
    return render_template(
        "health.html",
        checks=_checks(),
        backups=newest_first,
        folder=folder,
        database=current_app.config["DB"],
        now=wall_ms(),
        ago=health.ago,
    )
