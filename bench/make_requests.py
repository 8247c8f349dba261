#!/usr/bin/env python3
"""Writes N signed, realistic user.created deliveries, one per line (svix-id, timestamp, signature,
body separated by tabs), each for a new user with a unique email: `make_requests.py N SECRET RUN`."""
import base64
import hashlib
import hmac
import json
import sys
import time

count, secret, run = int(sys.argv[1]), sys.argv[2], sys.argv[3]
key = base64.b64decode(secret.removeprefix("whsec_"))
now = int(time.time())
out = sys.stdout
for i in range(count):
    user = f"user_bench{run}x{i:07d}"
    address = f"idn_bench{run}x{i:07d}"
    body = json.dumps({
        "data": {
            "backup_code_enabled": False, "banned": False, "birthday": "", "created_at": now * 1000,
            "email_addresses": [{
                "email_address": f"bench.{run}.{i}@example.com", "id": address, "linked_to": [],
                "object": "email_address", "reserved": False,
                "verification": {"status": "verified", "strategy": "email_code"},
            }],
            "external_accounts": [], "external_id": None, "first_name": "Bench", "gender": "",
            "has_image": False, "id": user, "image_url": "https://img.clerk.com/xxxxxx", "last_active_at": None,
            "last_name": f"User {i}", "last_sign_in_at": None, "locked": False, "object": "user",
            "passkeys": [], "password_enabled": True, "phone_numbers": [], "primary_email_address_id": address,
            "primary_phone_number_id": None, "primary_web3_wallet_id": None, "private_metadata": {},
            "profile_image_url": "https://www.gravatar.com/avatar?d=mp", "public_metadata": {},
            "saml_accounts": [], "totp_enabled": False, "two_factor_enabled": False, "unsafe_metadata": {},
            "updated_at": now * 1000 + i, "username": None, "web3_wallets": [],
        },
        "event_attributes": {"http_request": {"client_ip": "192.168.1.100", "user_agent": "Mozilla/5.0"}},
        "instance_id": "ins_bench", "object": "event", "timestamp": now * 1000, "type": "user.created",
    }, separators=(",", ":"))
    msg_id = f"msg_bench{run}x{i:07d}"
    signed = f"{msg_id}.{now}.{body}".encode()
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    out.write(f"{msg_id}\t{now}\tv1,{signature}\t{body}\n")
