"""Event ids ordered by time: UUID version 7 (RFC 9562, section 5.7).

48 bits of Unix time in milliseconds, then 74 random bits with the version (7) and the variant (10)
set among them. An outbox row's event id is unique (an index), and a random UUID (version 4) lands each
new row's key on a random page of that index: on a big outbox nearly every insert then reads a page
and, after a checkpoint, writes a full-page image to the WAL. Ids that grow with time append to the
index's last pages instead. The outbox's SQL (`crm_event_id_new`, crm migration 0006) makes the same
ids for the events the wallet's fast statements write.

Python 3.14 has `uuid.uuid7`; this project runs on 3.11 too, and the layout is six lines.
"""

from __future__ import annotations

import secrets
import time
import uuid

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_RANDOM_A = ((1 << 12) - 1) << 64  # the 12 bits after the version
_RANDOM_B = (1 << 62) - 1  # the 62 bits after the variant


def event_id_new() -> uuid.UUID:
    """A new version-7 UUID: its first 48 bits are the current Unix time in milliseconds."""
    milliseconds = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(secrets.token_bytes(10), "big")
    return uuid.UUID(int=(milliseconds & ((1 << 48) - 1)) << 80 | _VERSION | random_bits & _RANDOM_A
                     | _VARIANT | random_bits & _RANDOM_B)
