#!/usr/bin/env python3
"""The usual alternative, for the benchmark: the same webhook in Python with the official `svix`
package and psycopg, applying each event with the same one statement (clerk_webhook.apply_user_event).
Runs as a CGI program (fcgiwrap) or as a WSGI app (`gunicorn webhook:app`)."""
import json
import os
import sys

import psycopg
from svix.webhooks import Webhook, WebhookVerificationError

SECRET = os.environ["CLERK_WEBHOOK_SIGNING_SECRET"]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
APPLY = "SELECT clerk_webhook.apply_user_event(%s, %s, %s, %s, %s, %s, %s)"
_connection = None


def handle(method, headers, body, persistent):
    """Returns (status, body)."""
    global _connection
    if method != "POST":
        return 405, {"error": "Method not allowed"}
    try:
        Webhook(SECRET).verify(body, headers)
    except WebhookVerificationError:
        return 401, {"error": "Invalid signature"}
    try:
        event = json.loads(body)
        data = event["data"]
        kind, clerk_id = event["type"], data["id"]
    except (ValueError, KeyError, TypeError):
        return 400, {"error": "Malformed event"}
    action, updated_at, email, name = "ignore", None, None, None
    if kind in ("user.created", "user.updated"):
        action, updated_at = "upsert", data["updated_at"]
        primary = data.get("primary_email_address_id")
        email = next((a["email_address"] for a in data.get("email_addresses") or [] if a["id"] == primary), None)
        name = " ".join(p.strip() for p in (data.get("first_name") or "", data.get("last_name") or "") if p.strip()) or None
    elif kind == "user.deleted":
        action = "delete"
    try:
        if _connection is None or _connection.closed:
            _connection = psycopg.connect(DATABASE_URL, autocommit=True, prepare_threshold=None)
        row = _connection.execute(APPLY, (headers["svix-id"], kind, action, clerk_id, updated_at, email, name)).fetchone()
        if not persistent:
            _connection.close()
        return 200, {"ok": True, "outcome": row[0]}
    except psycopg.OperationalError:
        _connection = None
        return 503, {"error": "Temporarily unavailable, retry later"}


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 405: "Method Not Allowed", 503: "Service Unavailable"}


def app(environ, start_response):
    """WSGI entry point (gunicorn): keeps its connection."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length).decode()
    headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
    status, payload = handle(environ["REQUEST_METHOD"], headers, body, persistent=True)
    start_response(f"{status} {REASONS[status]}", [("Content-Type", "application/json")])
    return [json.dumps(payload).encode()]


if __name__ == "__main__":
    length = int(os.environ.get("CONTENT_LENGTH") or 0)
    body = sys.stdin.buffer.read(length).decode()
    headers = {k[5:].lower().replace("_", "-"): v for k, v in os.environ.items() if k.startswith("HTTP_")}
    status, payload = handle(os.environ.get("REQUEST_METHOD", ""), headers, body, persistent=False)
    sys.stdout.write(f"Status: {status} {REASONS[status]}\r\nContent-Type: application/json\r\n\r\n{json.dumps(payload)}")
