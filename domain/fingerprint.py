"""Error fingerprints: which critical errors are "the same problem" (like Sentry's issue grouping).

A fingerprint is error_type + service + the message with its variable parts replaced by
placeholders: quoted values -> '<q>', UUIDs -> <uuid>, hex ids -> <hex>, numbers -> <n>.
Pure functions, no database: queries group by the exact (type, service, message) in SQL and
merge the groups whose normalised messages are equal here.
"""

from __future__ import annotations

import hashlib
import re

_QUOTED = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"")
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b"
)
# Hex ids: 0x-prefixed, or 8+ hex characters that contain at least one digit (not plain words).
_HEX = re.compile(
    r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"
)
_NUMBER = re.compile(r"(?<![A-Za-z_<])[-+]?\d+(?:[.,:]\d+)*")
_SPACE = re.compile(r"\s+")
# Messages longer than this are cut before normalising (the fingerprint reads the head only).
MAX_MESSAGE_CHARS = 2_000


def normalise_message(message: str | None) -> str:
    """The message with quoted values, UUIDs, hex ids and numbers as placeholders, spaces collapsed."""
    text = (message or "")[:MAX_MESSAGE_CHARS]
    text = _QUOTED.sub("'<q>'", text)
    text = _UUID.sub("<uuid>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()


def fingerprint(error_type: str | None, service: str | None, message: str | None) -> str:
    """A short stable id of the group an error belongs to (12 hex characters)."""
    key = "\x1f".join(
        (error_type or "", service if service is not None else "\x00", normalise_message(message))
    )
    return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


def is_fingerprint(value: str) -> bool:
    """True when `value` looks like a fingerprint (for validating URL parameters)."""
    return bool(re.fullmatch(r"[0-9a-f]{12}", value or ""))
