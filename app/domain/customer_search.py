"""Customer search for the type-ahead: a few letters of a name, or any spelling of a phone.

The counter types a few letters of a name, or a phone number however it is written (`+49 151
2345678`, `0151 2345678`, `0049 151 2345678`, `+491512345678`).

A stored phone is indexed as its digits (and a leading +) exactly as typed, an expression SQLite
derives from the synced `phone` field (migration m0011). The spellings that could mean the
number typed are worked out here, at query time, from the shop's country with phonenumbers'
metadata (its country code, trunk prefix and international prefix), so nothing stored depends on
a node-local setting and every replica finds the same customers for the same spelling.
"""

from __future__ import annotations

import re

import phonenumbers

from app import store
from app.store import Connection
from app.store import customer_search as index

Customer = dict
# What people put between digits: spaces, dashes, brackets, dots, slashes, no-break spaces.
_SEPARATORS = re.compile(r"[\s\-().\/\u00a0]")
_PHONE_LIKE = re.compile(r"\+?\d{3,}")
COMMON_INTERNATIONAL_PREFIX = "00"  # most of the world dials out with 00


def phone_prefixes(query: str, country: str) -> list[str]:
    """The index prefixes (digits with an optional leading +) that spellings of the number
    typed could start with; [] when the query is not a phone number.

    Partial numbers work too (type-ahead): every spelling is a prefix.
    """
    compact = _SEPARATORS.sub("", query)
    if not _PHONE_LIKE.fullmatch(compact):
        return []
    region = _Region(country)
    international = region.international_part(compact)
    if international is not None:
        return [compact, *region.spellings_of_international(international)]
    national = region.national_part(compact)
    if national is not None:
        return [compact, *region.spellings_of_national(national)]
    # Bare digits: as typed, or the national number without its trunk prefix.
    return [compact, *region.spellings_of_national(compact)]


class _Region:
    """A country's dialling conventions, from phonenumbers' metadata."""

    def __init__(self, country: str) -> None:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(country) if country else None
        self.country_code = str(phonenumbers.country_code_for_region(country)) if metadata else ""
        self.trunk = (metadata.national_prefix or "") if metadata else ""
        prefixes = {COMMON_INTERNATIONAL_PREFIX}
        if metadata is not None:
            for prefix in (metadata.international_prefix, metadata.preferred_international_prefix):
                if prefix and prefix.isdigit():
                    prefixes.add(prefix)
        self.exits = sorted(prefixes, key=len, reverse=True)

    def international_part(self, compact: str) -> str | None:
        """Country code and number after a + or an international prefix, else None."""
        if compact.startswith("+"):
            return compact[1:]
        for exit_prefix in self.exits:
            if compact.startswith(exit_prefix):
                return compact[len(exit_prefix) :]
        return None

    def national_part(self, compact: str) -> str | None:
        """The number after the trunk prefix (0151… → 151…), else None."""
        if self.trunk and self.country_code and compact.startswith(self.trunk):
            return compact[len(self.trunk) :]
        return None

    def spellings_of_international(self, digits: str) -> list[str]:
        spellings = [f"+{digits}", *(f"{exit_prefix}{digits}" for exit_prefix in self.exits)]
        if self.country_code and digits.startswith(self.country_code):
            national = digits[len(self.country_code) :]
            if self.trunk and national.startswith(self.trunk):  # "+49 (0)151 …"
                national = national[len(self.trunk) :]
            spellings += self.spellings_of_national(national)
        return spellings

    def spellings_of_national(self, national: str) -> list[str]:
        if not self.country_code:
            return []
        full = f"{self.country_code}{national}"
        spellings = [f"+{full}", *(f"{exit_prefix}{full}" for exit_prefix in self.exits)]
        spellings += [f"{self.trunk}{national}", national]
        if self.trunk:  # "+49 (0)151 …", the trunk prefix kept in brackets
            spellings.append(f"+{self.country_code}{self.trunk}{national}")
        return spellings


def search(db: Connection, query: str, *, country: str, limit: int) -> tuple[list[Customer], bool]:
    """Up to `limit` live customers for a type-ahead, and whether more match.

    A phone number finds phones only. Otherwise names starting with the query come first, then
    emails starting with it, then names with a word starting with each word typed; each group
    in name (or email) order.
    """
    text = " ".join(query.split())
    if not text:
        return [], False
    found: list[str] = []

    def add(ids: list[str]) -> None:
        found.extend(customer_id for customer_id in ids if customer_id not in found)

    prefixes = phone_prefixes(text, country)
    if prefixes:  # a phone number: only phones (and their index) are searched
        add(index.by_phone_prefixes(db, prefixes, limit + 1))
    else:
        add(index.by_name_prefix(db, text, limit + 1))
        if "@" in text or " " not in text:
            add(index.by_email_prefix(db, text, limit + 1))
        # The word scan reads every name: skip it when a name already starts with the full
        # name typed, as the counter typing "ada lovelace" is looking for that one.
        if len(found) <= limit and not (found and " " in text):
            add(index.by_word_starts(db, text.split(" "), limit + 1))
    return [store.get_customer(db, customer_id) for customer_id in found[:limit]], (
        len(found) > limit
    )
