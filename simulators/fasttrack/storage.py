"""What the simulated Fast Track has received and fetched, kept in the process's memory.

Fast Track is the remote party: its state lives here, not in the platform's database. Entries are
events (received) and callbacks (Operator API calls it made), numbered in arrival order, with a
per-player timeline. Memory is bounded (oldest entries go first); an optional JSON-lines file keeps
everything (callback bodies excepted: they hold personal data).
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict, deque
from datetime import UTC, datetime


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    def __init__(self, *, max_entries: int = 200_000, per_player: int = 2_000, max_event_ids: int = 1_000_000,
                 log_path: str | None = None):
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self._per_player = per_player
        self._max_event_ids = max_event_ids
        self._log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115 - lives with the process
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._seq = 0
            self._entries: deque[dict] = deque(maxlen=self._max_entries)
            self._players: dict[str, deque[dict]] = {}
            self._event_ids: OrderedDict[str, int] = OrderedDict()
            self.counters: Counter[str] = Counter()

    def _append(self, entry: dict) -> dict:
        self._seq += 1
        entry["seq"] = self._seq
        entry.setdefault("at", now_rfc3339())
        self._entries.append(entry)
        user_id = entry.get("user_id") or "unknown"
        timeline = self._players.get(user_id)
        if timeline is None:
            timeline = self._players[user_id] = deque(maxlen=self._per_player)
        timeline.append(entry)
        if self._log is not None:
            self._log.write(json.dumps({k: v for k, v in entry.items() if entry["kind"] == "event" or k != "body"})
                            + "\n")
        return entry

    def add_event(self, entry: dict, event_id: str | None) -> tuple[dict, bool]:
        """Store a valid event unless its X-Event-Id was seen. Returns (entry, duplicate)."""
        with self._lock:
            self.counters["received"] += 1
            if event_id:
                first_seq = self._event_ids.get(event_id)
                if first_seq is not None:
                    self.counters["duplicates"] += 1
                    return {"seq": first_seq, "duplicate_of": first_seq}, True
                self._event_ids[event_id] = self._seq + 1
                if len(self._event_ids) > self._max_event_ids:
                    self._event_ids.popitem(last=False)
            self.counters["stored"] += 1
            self.counters[f"type:{entry.get('event_type')}"] += 1
            return self._append(entry), False

    def add_invalid(self, entry: dict) -> dict:
        with self._lock:
            self.counters["received"] += 1
            self.counters["invalid"] += 1
            return self._append(entry)

    def add_callback(self, entry: dict) -> dict:
        with self._lock:
            self.counters["callbacks_ok" if entry.get("ok") else "callbacks_failed"] += 1
            if entry.get("ok") and not entry.get("valid"):
                self.counters["callbacks_invalid"] += 1
            return self._append(entry)

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counters[name] += amount

    def events(self, *, event_type: str | None = None, user_id: str | None = None, kind: str = "event",
               limit: int | None = None) -> list[dict]:
        with self._lock:
            source = list(self._players.get(user_id, ())) if user_id else list(self._entries)
        found = [entry for entry in source if entry["kind"] == kind
                 and (event_type is None or entry.get("event_type") == event_type)]
        return found[-limit:] if limit else found

    def timeline(self, user_id: str) -> list[dict] | None:
        with self._lock:
            timeline = self._players.get(user_id)
            return None if timeline is None else list(timeline)

    def players(self) -> list[dict]:
        with self._lock:
            timelines = {user_id: list(timeline) for user_id, timeline in self._players.items()}
        summary = []
        for user_id, timeline in timelines.items():
            events = [entry for entry in timeline if entry["kind"] == "event"]
            callbacks = [entry for entry in timeline if entry["kind"] == "callback"]
            summary.append({
                "user_id": user_id,
                "events": len(events),
                "callbacks": len(callbacks),
                "errors": sum(1 for entry in timeline if entry.get("errors")),
                "last_at": timeline[-1]["at"] if timeline else None,
                "last_event_type": events[-1].get("event_type") if events else None,
            })
        return sorted(summary, key=lambda item: item["last_at"] or "", reverse=True)

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._entries), "players": len(self._players), **self.counters}
