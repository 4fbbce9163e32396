"""A local Stripe emulator for the tests: localstripe, plus the Checkout Session API it lacks.

    python -m tests.payments.emulator --port 8401

localstripe (PaymentIntents, refunds, webhook delivery) is wrapped as it is;
Checkout Sessions are added here with Stripe's own rules that our code relies
on (expires_at 30 min to 24 h ahead, idempotency keys, only open sessions
expire, an expired session cannot be paid). `POST /_test/checkout/sessions/{id}/pay`
plays the patient paying on Stripe's page: it attaches a PaymentIntent that the
test created (and confirmed) in localstripe. Nothing here talks to the real Stripe.

Refunds (localstripe's) get Stripe's rules where money depends on them: the same
Idempotency-Key gives the same refund, and a refund above what is left of the
charge is refused.

Events: what Stripe would deliver is logged in order, `GET /_test/events?after=N`
(checkout.session.completed / .expired, refund.created, and charge.refunded
WITHOUT the embedded refunds list, as since API 2022-11-15). The tests sign and
deliver them (in any order, duplicated or not at all) with conftest.sign.
"""

import argparse
import asyncio
import copy
import json
import secrets
import time

from aiohttp import web
from localstripe import resources, server

SESSIONS: dict[str, dict] = {}
BY_IDEMPOTENCY_KEY: dict[str, str] = {}
REFUNDS_BY_KEY: dict[str, tuple[int, bytes]] = {}
EVENTS: list[dict] = []


def _event(event_type: str, obj: dict) -> None:
    EVENTS.append({
        "id": "evt_emu_" + secrets.token_hex(12), "object": "event", "api_version": "2025-01-27.acacia",
        "created": int(time.time()), "type": event_type, "livemode": False, "data": {"object": copy.deepcopy(obj)},
    })


def _error(status: int, message: str) -> web.Response:
    body = {"error": {"type": "invalid_request_error", "message": message}}
    return web.json_response(body, status=status)


async def session_create(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key")
    if key and key in BY_IDEMPOTENCY_KEY:
        return web.json_response(SESSIONS[BY_IDEMPOTENCY_KEY[key]])
    data = await server.get_post_data(request) or {}
    now = int(time.time())
    try:
        expires_at = int(data.get("expires_at") or now + 24 * 3600)
        item = data["line_items"][0]
        amount = int(item["price_data"]["unit_amount"])
        currency = item["price_data"]["currency"]
        assert data["mode"] == "payment" and amount > 0 and data["success_url"] and data["cancel_url"]
    except (KeyError, IndexError, TypeError, ValueError, AssertionError):
        return _error(400, "Bad request")
    if "payment_method_types" in data:  # as Stripe on API 2026-09-30.endive and later
        return _error(400, "payment_method_types_no_longer_supported: use allowed_payment_method_types.")
    if not now + 30 * 60 - 5 <= expires_at <= now + 24 * 3600:
        return _error(400, "The `expires_at` timestamp must be between 30 minutes and 24 hours from creation.")
    session_id = "cs_test_" + secrets.token_hex(16)
    SESSIONS[session_id] = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "amount_total": amount,
        "currency": currency,
        "customer_email": data.get("customer_email"),
        "client_reference_id": data.get("client_reference_id"),
        "metadata": data.get("metadata") or {},
        "expires_at": expires_at,
        "success_url": data["success_url"],
        "cancel_url": data["cancel_url"],
        "payment_intent": None,
        "line_items_sent": data["line_items"],
        "url": f"{request.scheme}://{request.host}/checkout/{session_id}",
    }
    # What Stripe shows: the dynamic methods (here: card and a bank debit) filtered by the allowed list.
    allowed = data.get("allowed_payment_method_types") or ["card", "bacs_debit"]
    SESSIONS[session_id]["payment_method_types"] = [m for m in ["card", "bacs_debit"] if m in allowed]
    if key:
        BY_IDEMPOTENCY_KEY[key] = session_id
    return web.json_response(SESSIONS[session_id])


def session_retrieve(request: web.Request) -> web.Response:
    session = SESSIONS.get(request.match_info["id"])
    if session is None:
        return _error(404, "No such checkout.session")
    return web.json_response(session)


async def session_expire(request: web.Request) -> web.Response:
    session = SESSIONS.get(request.match_info["id"])
    if session is None:
        return _error(404, "No such checkout.session")
    if session["status"] != "open":
        return _error(400, f"Only Checkout Sessions with a status in [\"open\"] can be expired; this one is {session['status']}.")
    session.update(status="expired", url=None)
    _event("checkout.session.expired", session)
    return web.json_response(session)


async def test_session_pay(request: web.Request) -> web.Response:
    session = SESSIONS.get(request.match_info["id"])
    if session is None:
        return _error(404, "No such checkout.session")
    if session["status"] != "open" or session["expires_at"] <= time.time():
        return _error(400, f"This Checkout Session is {session['status']}: it cannot be paid.")
    data = await request.json()
    session.update(status="complete", payment_status="paid", payment_intent=data["payment_intent"], url=None)
    _event("checkout.session.completed", session)
    return web.json_response(session)


def test_events(request: web.Request) -> web.Response:
    after = int(request.query.get("after", "0"))
    return web.json_response(EVENTS[after:])


def test_totals(request: web.Request) -> web.Response:
    """Captured and refunded per payment intent, in one call (the state machine asks after every step)."""
    totals = {}
    for intent_id in filter(None, request.query.get("payment_intents", "").split(",")):
        charge = _charge_of(intent_id)
        captured = charge.amount if charge is not None and charge.status == "succeeded" else 0
        totals[intent_id] = {"captured": captured, "refunded": charge.amount_refunded if charge is not None else 0}
    return web.json_response(totals)


def _charge_of(intent_id: str):
    return resources.PaymentIntent._api_retrieve(intent_id).latest_charge


@web.middleware
async def stripe_refund_rules(request: web.Request, handler):
    """POST /v1/refunds as Stripe does it: idempotency keys honoured, never above the charge,
    and the refund.created / charge.refunded events logged."""
    if request.method != "POST" or request.path != "/v1/refunds":
        return await handler(request)
    key = request.headers.get("Idempotency-Key")
    if key and key in REFUNDS_BY_KEY:
        status, body = REFUNDS_BY_KEY[key]
        return web.Response(status=status, body=body, content_type="application/json")
    data = await server.get_post_data(request) or {}
    try:
        charge = _charge_of(data["payment_intent"])
        amount = int(data.get("amount") or charge.amount - charge.amount_refunded)
    except Exception:  # noqa: BLE001 - localstripe raises its own errors for unknown objects
        return await handler(request)
    if not 0 < amount <= charge.amount - charge.amount_refunded:
        return _error(400, "Refund amount is greater than unrefunded amount on charge.")
    # Created here with the amount made explicit: localstripe alone refunds the whole charge again
    # when no amount is given, whatever was refunded before.
    refund_obj = resources.Refund._api_create(payment_intent=data["payment_intent"], amount=amount,
                                              metadata=data.get("metadata") or {})
    response = web.json_response(refund_obj._export())
    if key:
        REFUNDS_BY_KEY[key] = (response.status, response.body)
    if response.status == 200:
        refund = json.loads(response.body)
        _event("refund.created", refund)
        exported = _charge_of(data["payment_intent"])._export()
        exported.pop("refunds", None)
        _event("charge.refunded", exported)
    return response



def build_app() -> web.Application:
    # localstripe pickles its whole store to /tmp after every POST: slow as it grows, and a file
    # shared with anyone else running it. The tests need no persistence.
    server.store.dump_to_disk = lambda: None
    app = server.app
    # Before localstripe's generic routes would not matter: none of them starts with /v1/checkout.
    app.router.add_post("/v1/checkout/sessions", session_create)
    app.router.add_get("/v1/checkout/sessions/{id}", session_retrieve)
    app.router.add_post("/v1/checkout/sessions/{id}/expire", session_expire)
    app.router.add_post("/_test/checkout/sessions/{id}/pay", test_session_pay)
    app.router.add_get("/_test/events", test_events)
    app.router.add_get("/_test/totals", test_totals)
    app.middlewares.append(stripe_refund_rules)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.set_event_loop(asyncio.new_event_loop())
    web.run_app(build_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
