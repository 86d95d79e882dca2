"""HTML of the hosted payment page and the simulator's overview page."""

from __future__ import annotations

from html import escape

STYLE = """<style>body{font:16px/1.5 system-ui,sans-serif;background:#eef2f7;margin:0;color:#1d2330}
main{max-width:720px;margin:40px auto;background:#fff;border-radius:12px;padding:28px;box-shadow:0 2px 8px #0001}
h1{margin-top:0;font-size:1.4rem}.amount{font-size:2rem;font-weight:700;margin:12px 0}.muted{color:#667085}
button{border:0;border-radius:6px;padding:10px 18px;font:inherit;cursor:pointer;margin-right:8px}
.pay{background:#067647;color:#fff}.decline{background:#b42318;color:#fff}.cancel{background:#e4e7ec}
table{width:100%;border-collapse:collapse;font-size:.9rem}
td,th{text-align:left;padding:4px 6px;border-bottom:1px solid #eee}
</style>"""


def hosted_page(*, payment: dict, mode: str) -> str:
    amount = f"{escape(payment['amount'])} {escape(payment['currency'])}"
    if payment["status"] != "pending":
        body = (f"<p>This payment is already <b>{escape(payment['status'])}</b>.</p>"
                f"<p><a href=\"{escape(payment['return_url'])}\">Back to the merchant</a></p>")
    else:
        body = f"""<form method="post" action="/pay/{escape(payment['psp_reference'])}">
<p class="muted">Card ending 4242 (simulated). Mode: {escape(mode)}.</p>
<button class="pay" name="action" value="pay">Pay {amount}</button>
<button class="decline" name="action" value="decline">Decline</button>
<button class="cancel" name="action" value="cancel">Cancel</button></form>"""
    return (f"<!doctype html><html><head><meta charset=utf-8><title>Simulated PSP</title>{STYLE}</head><body><main>"
            f"<h1>Simulated PSP · secure payment</h1><p class=muted>Merchant reference "
            f"{escape(payment['merchant_reference'])}</p><div class=amount>{amount}</div>{body}</main></body></html>")


def message_page(title: str, text: str, status_note: str = "") -> str:
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title>{STYLE}</head><body>"
            f"<main><h1>{escape(title)}</h1><p>{escape(text)}</p><p class=muted>{escape(status_note)}</p></main>"
            f"</body></html>")


def overview_page(*, payments: list[dict], mode: str) -> str:
    rows = "".join(
        f"<tr><td>{escape(p['psp_reference'])}</td><td>{escape(p['kind'])}</td><td>{escape(p['merchant_reference'])}"
        f"</td><td>{escape(p['amount'])} {escape(p['currency'])}</td><td>{escape(p['status'])}</td>"
        f"<td>{escape(', '.join(str(w['last_status']) for w in p['webhooks']))}</td></tr>"
        for p in reversed(payments[-200:])
    )
    return (f"<!doctype html><html><head><meta charset=utf-8><title>Simulated PSP</title>{STYLE}</head><body><main>"
            f"<h1>Simulated PSP</h1><p>Mode: <b>{escape(mode)}</b> (POST /control {{\"mode\": "
            f"\"approve|decline|timeout|duplicate\"}})</p><table><tr><th>PSP ref</th><th>Kind</th><th>Merchant ref</th>"
            f"<th>Amount</th><th>Status</th><th>Webhook answers</th></tr>{rows}</table></main></body></html>")
