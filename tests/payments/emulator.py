"""A local Stripe emulator for the tests: localstripe, plus the Checkout Session API it lacks.

    python -m tests.payments.emulator --port 8401

localstripe (PaymentIntents, refunds, webhook delivery) is wrapped as it is;
Checkout Sessions are added here with Stripe's own rules that our code relies
on (expires_at 30 min to 24 h ahead, idempotency keys, only open sessions
expire). `POST /_test/checkout/sessions/{id}/pay` plays the patient paying on
Stripe's page: it attaches a PaymentIntent that the test created (and
confirmed) in localstripe. Nothing here talks to the real Stripe.
"""

import argparse
import asyncio
import secrets
import time

from aiohttp import web
from localstripe import server

SESSIONS: dict[str, dict] = {}
BY_IDEMPOTENCY_KEY: dict[str, str] = {}


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
    return web.json_response(session)


async def test_session_pay(request: web.Request) -> web.Response:
    session = SESSIONS.get(request.match_info["id"])
    if session is None:
        return _error(404, "No such checkout.session")
    data = await request.json()
    session.update(status="complete", payment_status="paid", payment_intent=data["payment_intent"], url=None)
    return web.json_response(session)


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
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.set_event_loop(asyncio.new_event_loop())
    web.run_app(build_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
