"""The simulator's web page: players, and each player's timeline of events and callbacks.

Server-rendered, every value escaped (event bodies come from the outside), refreshed every few
seconds. Anything that broke the contract is shown in red with the validator's messages.
"""

from __future__ import annotations

import json
from html import escape

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem;margin:0 0 .5rem} h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;
text-align:left;vertical-align:top} th{background:#f4f4f4}
.bad{background:#fde8e8;color:#a40000} .bad td{color:#a40000} .err{color:#c00;font-weight:600}
.ok{color:#0a6b2c} .muted{color:#777} .mode{padding:.4rem .6rem;border-radius:4px;display:inline-block}
.mode-ok{background:#e6f4ea} .mode-fail{background:#fde8e8;color:#a40000}
pre{margin:.2rem 0;white-space:pre-wrap;font-size:12px;max-height:14rem;overflow:auto;background:#fafafa;padding:.3rem}
.stats span{margin-right:1rem} a{color:#0645ad}
"""


def _layout(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<meta http-equiv='refresh' content='3'><style>{STYLE}</style></head><body>{body}</body></html>")


def _header(sim) -> str:
    stats = sim.store.stats()
    mode = sim.failure.describe()
    failing = mode["mode"] != "ok"
    mode_text = mode["mode"] + (f" ({mode['seconds_left']} s left)" if mode["seconds_left"] is not None else "") + (
        f" ({mode['requests_left']} requests left)" if mode["requests_left"] is not None else "")
    keys = ("received", "stored", "duplicates", "invalid", "unauthorized", "failed_by_mode", "timed_out_by_mode",
            "callbacks_ok", "callbacks_failed", "callbacks_invalid")
    counters = "".join(f"<span>{escape(key)}: <b>{stats.get(key, 0)}</b></span>" for key in keys)
    platform = escape(sim.platform_url) if sim.platform_url else "none (callbacks off)"
    return (f"<h1>Fast Track simulator</h1><p><span class='mode {'mode-fail' if failing else 'mode-ok'}'>"
            f"mode: {escape(mode_text)}</span> &nbsp; platform: {platform} &nbsp; "
            f"API key check: {'on (' + escape(sim.api_key_header) + ')' if sim.api_key else 'off'}</p>"
            f"<p class='stats'>{counters}</p>")


def index(sim) -> str:
    rows = []
    for player in sim.store.players():
        cls = " class='bad'" if player["errors"] else ""
        user_id = escape(player["user_id"])
        rows.append(f"<tr{cls}><td><a href='/players/{user_id}'>{user_id}</a></td><td>{player['events']}</td>"
                    f"<td>{player['callbacks']}</td><td>{player['errors']}</td>"
                    f"<td>{escape(player['last_event_type'] or '')}</td>"
                    f"<td>{escape(player['last_at'] or '')}</td></tr>")
    table = ("<table><tr><th>user_id</th><th>events</th><th>callbacks</th><th>errors</th><th>last event</th>"
             "<th>last at</th></tr>" + "".join(rows) + "</table>") if rows else "<p class='muted'>No events yet.</p>"
    return _layout("Fast Track simulator", _header(sim) + "<h2>Players</h2>" + table)


def _entry_row(entry: dict) -> str:
    bad = bool(entry.get("errors")) or entry.get("ok") is False
    if entry["kind"] == "event":
        what = f"event <b>{escape(str(entry.get('event_type')))}</b>"
        detail = f"{escape(entry.get('method', ''))} {escape(entry.get('path', ''))}"
        if entry.get("event_id"):
            detail += f"<br><span class='muted'>X-Event-Id {escape(str(entry['event_id']))}</span>"
    else:
        what = f"callback <b>{escape(str(entry.get('endpoint')))}</b>"
        detail = (f"GET {escape(str(entry.get('path', '')))} &rarr; {escape(str(entry.get('status')))} "
                  f"in {entry.get('duration_ms', '?')} ms, {entry.get('attempts', 1)} attempt(s), "
                  f"auth {escape(str(entry.get('auth', '')))}")
    errors = "".join(f"<div class='err'>{escape(str(error))}</div>" for error in entry.get("errors") or [])
    verdict = "<span class='ok'>valid</span>" if not bad else ""
    body = json.dumps(entry.get("body"), indent=1, ensure_ascii=False) if "body" in entry else ""
    return (f"<tr{' class=bad' if bad else ''}><td>{entry['seq']}</td><td>{escape(entry.get('at', ''))}</td>"
            f"<td>{what}<br>{detail}</td><td>{verdict}{errors}<pre>{escape(body)}</pre></td></tr>")


def timeline(sim, user_id: str, entries: list[dict] | None) -> str:
    if entries is None:
        content = f"<p class='muted'>Nothing received for user {escape(user_id)}.</p>"
    else:
        content = ("<table><tr><th>#</th><th>at</th><th>what</th><th>verdict and body</th></tr>"
                   + "".join(_entry_row(entry) for entry in reversed(entries)) + "</table>")
    return _layout(f"Player {user_id} - Fast Track simulator",
                   _header(sim) + f"<p><a href='/'>&larr; all players</a></p><h2>Timeline of user "
                   f"{escape(user_id)} (newest first)</h2>" + content)
