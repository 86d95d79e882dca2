"""The mock slot's page: reels, a bet picker, the balance, and the wallet's answers shown as they come."""

from __future__ import annotations

import html
import json

GAME_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__ · Demo Games</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{margin:0;font:16px/1.4 system-ui,sans-serif;background:radial-gradient(#2b1d5c,#0d0a1f);color:#fff;
min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center}
h1{margin:.2rem 0;font-size:1.4rem;letter-spacing:.05em}
.reels{display:flex;gap:12px;margin:18px 0}
.reel{width:96px;height:110px;border-radius:14px;background:#fff;color:#000;font-size:64px;display:flex;
align-items:center;justify-content:center;box-shadow:inset 0 -6px 0 #ddd}
.spinning .reel{animation:blur .15s linear infinite}
@keyframes blur{50%{transform:translateY(6px);opacity:.6}}
.row{display:flex;gap:12px;align-items:center;margin:6px 0}
button{font:inherit;font-weight:700;border:0;border-radius:99px;padding:12px 36px;background:#f5b400;color:#1d1300;
cursor:pointer}
button:disabled{opacity:.5;cursor:wait}
select{font:inherit;padding:6px;border-radius:6px}
#message{min-height:1.6em;font-weight:600}
.win{color:#7CFC9A}.err{color:#ff8a80}.note{color:#ffd27f}
small{opacity:.7} a{color:#cfc2ff}
</style></head><body>
<h1>__TITLE__</h1><small>Demo Games · RTP __RTP__% · round results from a seeded RNG</small>
<div class="reels" id="reels"><div class="reel">7</div><div class="reel">7</div><div class="reel">7</div></div>
<div class="row">Balance: <strong id="balance">…</strong> <span id="currency"></span></div>
<div class="row"><label>Bet <select id="bet">__BETS__</select></label>
<button id="spin" disabled>SPIN</button></div>
<div id="message"></div>
<div class="row"><small id="stats"></small></div>
<div class="row"><a href="__LOBBY__" target="_top">Back to the lobby</a></div>
<script>
const token = __TOKEN__, game = __GAME__;
const $ = (id) => document.getElementById(id);
function show(text, cls) { $("message").textContent = text; $("message").className = cls || ""; }
function balance(body) { if (body && body.balance !== undefined) { $("balance").textContent = body.balance;
  $("currency").textContent = body.currency || ""; } }
async function post(path, data) {
  const response = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(data)});
  return response.json();
}
async function start() {
  const body = await post("/api/session", {token});
  balance(body.wallet);
  if (body.ok) { $("spin").disabled = false; show("Good luck!"); }
  else { show(body.wallet.error || "The session cannot play.", "err"); }
}
$("spin").addEventListener("click", async () => {
  $("spin").disabled = true; $("reels").classList.add("spinning"); show("");
  try {
    const body = await post("/api/spin", {token, game, bet: $("bet").value});
    $("reels").classList.remove("spinning");
    if (body.reels) body.reels.forEach((symbol, i) => { $("reels").children[i].textContent = symbol; });
    balance(body.wallet);
    if (!body.ok) show(body.wallet.error || body.wallet.code, "err");
    else if (Number(body.win) > 0) show("You win " + body.win + "!", "win");
    else show("No win this time.");
    if (body.wallet && body.wallet.reality_check) {
      const rc = body.wallet.reality_check;
      show("Reality check: " + rc.minutes_played + " minutes played, bets " + rc.total_bet +
           ", wins " + rc.total_win + ".", "note");
    }
    $("stats").textContent = "round " + (body.round_id || "-") + " · wallet calls: " + body.calls +
      (body.retries ? " · retries: " + body.retries : "");
  } catch (error) { show("The game lost its connection.", "err"); }
  $("spin").disabled = false; $("reels").classList.remove("spinning");
});
start();
</script></body></html>"""

BETS = ["0.10", "0.50", "1.00", "2.00", "5.00"]


def game_page(*, title: str, rtp: float, token: str, game: str, lobby: str) -> str:
    options = "".join(f'<option{" selected" if bet == "1.00" else ""}>{bet}</option>' for bet in BETS)
    lobby = lobby if lobby.startswith(("http://", "https://", "/")) else "/"
    return (GAME_PAGE.replace("__TITLE__", html.escape(title)).replace("__RTP__", f"{rtp:g}")
            .replace("__BETS__", options).replace("__LOBBY__", html.escape(lobby, quote=True))
            .replace("__TOKEN__", json.dumps(token).replace("</", "<\\/"))
            .replace("__GAME__", json.dumps(game).replace("</", "<\\/")))


STATUS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Provider simulator</title></head>
<body style="font-family:system-ui;margin:2rem"><h1>Game provider simulator</h1>
<p>Vendor <code>__VENDOR__</code>, wallet <code>__WALLET__</code>, RTP __RTP__%.</p>
<pre>__STATS__</pre><p>Games open at <code>/game?token=...&amp;game=...</code> (the platform's launch URL).</p>
</body></html>"""
