"""The shop's settings: the country phone numbers are read in, the clock, the first weekday.

Node-local like API keys (each counter laptop keeps its own), so they never travel through sync;
nothing stored for sync depends on them (the phone search derives its spellings at query time).
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from app import store
from app.core.vocabulary import DAY_KEYS
from app.domain.errors import InvalidInput
from app.store import Connection
from app.store import shop_settings as stored

CLOCKS = ("24h", "12h")


@dataclass(frozen=True)
class ShopSettings:
    country: str = ""  # ISO 3166 region such as "DE"; "" reads numbers only as typed
    clock: str = "24h"
    first_weekday: str = "mon"

    @property
    def hour12(self) -> bool:
        return self.clock == "12h"

    def week_order(self) -> tuple[int, ...]:
        """date.weekday() numbers in the shop's week order, its first weekday first."""
        first = DAY_KEYS.index(self.first_weekday)
        return tuple((first + offset) % 7 for offset in range(7))


def read(db: Connection) -> ShopSettings:
    """The stored settings, with defaults for any never set."""
    values = stored.read_all(db)
    known = {name: values[name] for name in ("country", "clock", "first_weekday") if name in values}
    return ShopSettings(**known)


def countries() -> list[str]:
    """The regions phonenumbers knows, sorted."""
    return sorted(phonenumbers.SUPPORTED_REGIONS)


def update(db: Connection, *, country: str, clock: str, first_weekday: str) -> ShopSettings:
    """Check and store all three. Raises InvalidInput naming each bad field; stores nothing then."""
    country = country.strip().upper()
    details = []
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        message = f"{country!r} is not a country code; use two letters such as DE, GB or US."
        details.append({"field": "country", "message": message})
    if clock not in CLOCKS:
        details.append({"field": "clock", "message": "Choose 24-hour or 12-hour."})
    if first_weekday not in DAY_KEYS:
        details.append({"field": "first_weekday", "message": "Choose a day of the week."})
    if details:
        raise InvalidInput(details=details)
    with store.transaction(db):
        stored.write(db, {"country": country, "clock": clock, "first_weekday": first_weekday})
    return ShopSettings(country, clock, first_weekday)
