#!/usr/bin/env python3
"""A local stand-in for Clerk's Backend API, for the clerk-sync fallback tests.

Clerk's API cannot be reached from the test machines, so this serves the documented shapes of the
three endpoints the fallbacks call, on 127.0.0.1 only:

  GET /v1/users?limit=&offset=&order_by=   a bare JSON array of User objects (limit 1..500)
  GET /v1/users/count                      {"object": "total_count", "total_count": N}
  GET /v1/users/{id}                       a User, or 404 with Clerk's error body

Requests without `Authorization: Bearer <secret_key>` get 401 with Clerk's error body.

The state file (JSON) is read again on every request, so a test can change "Clerk" between runs:
  {"secret_key": "sk_test_...",
   "users": [<User objects>],
   "faults": [{"id": "f1", "path": "/v1/users", "status": 429, "retry_after": "1", "times": 1}],
   "unlisted": ["user_..."],
   "deleted_after_list_requests": {"1": ["user_..."]}}
A fault answers the next `times` requests whose path equals `path` (or, with "path": "*", any path)
with its status instead of the real answer. Every request is appended to the log file as one JSON
line: method, path, query, status. Users in "unlisted" exist (GET /v1/users/{id} finds them) but
the list skips them, as it skips users created after a run paged past them or shifted by deletes.
Users under "deleted_after_list_requests" are gone (from the list and from GET /v1/users/{id})
once that many list requests have been answered: Clerk deleting users while a run pages.

Usage: clerk_api.py --state STATE.json --port-file PORT --log REQUESTS.jsonl
"""

import argparse
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LOCK = threading.Lock()
FAULTS_USED = {}
LIST_REQUESTS_ANSWERED = [0]


def clerk_error(code, message):
    return {"errors": [{"code": code, "message": message, "long_message": message, "meta": {}}]}


class Handler(BaseHTTPRequestHandler):
    server_version = "clerk-api-standin"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        status, body, headers = self.answer(url.path, parse_qs(url.query))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        with LOCK, open(self.server.log_path, "a", encoding="utf-8") as log:
            entry = {"method": "GET", "path": url.path, "query": url.query, "status": status}
            log.write(json.dumps(entry) + "\n")

    def answer(self, path, query):
        with open(self.server.state_path, encoding="utf-8") as handle:
            state = json.load(handle)
        if self.headers.get("Authorization") != "Bearer " + state["secret_key"]:
            return 401, clerk_error("authentication_invalid", "Invalid authentication"), {}
        with LOCK:
            for fault in state.get("faults", []):
                used = FAULTS_USED.get(fault["id"], 0)
                if fault["path"] in ("*", path) and used < fault.get("times", 1):
                    FAULTS_USED[fault["id"]] = used + 1
                    headers = {"Retry-After": fault["retry_after"]} if "retry_after" in fault else {}
                    return fault["status"], clerk_error("standin_fault", "injected fault"), headers

        with LOCK:
            answered = LIST_REQUESTS_ANSWERED[0]
        gone = set()
        for after, ids in state.get("deleted_after_list_requests", {}).items():
            if answered >= int(after):
                gone.update(ids)
        users = [user for user in state["users"] if user["id"] not in gone]
        if path == "/v1/users":
            hidden = set(state.get("unlisted", []))
            answer = self.user_list([user for user in users if user["id"] not in hidden], query)
            if answer[0] == 200:
                with LOCK:
                    LIST_REQUESTS_ANSWERED[0] += 1
            return answer
        if path == "/v1/users/count":
            return 200, {"object": "total_count", "total_count": len(users)}, {}
        if path.startswith("/v1/users/"):
            wanted = unquote(path[len("/v1/users/"):])
            for user in users:
                if user["id"] == wanted:
                    return 200, user, {}
            return 404, clerk_error("resource_not_found", "not found"), {}
        return 404, clerk_error("resource_not_found", "not found"), {}

    @staticmethod
    def user_list(users, query):
        try:
            limit = int(query.get("limit", ["10"])[0])
            offset = int(query.get("offset", ["0"])[0])
        except ValueError:
            return 400, clerk_error("form_param_format_invalid", "limit and offset must be integers"), {}
        if not 1 <= limit <= 500 or offset < 0:
            return 422, clerk_error("form_param_value_invalid", "limit must be 1..500, offset >= 0"), {}
        order = query.get("order_by", ["-created_at"])[0]
        if order.lstrip("+-") != "created_at":
            return 422, clerk_error("form_param_value_invalid", "the stand-in orders by created_at only"), {}
        ordered = sorted(users, key=lambda user: (user["created_at"], user["id"]), reverse=order.startswith("-"))
        return 200, ordered[offset:offset + limit], {}


def main():
    # A test runner may start us with signals blocked; stopping us must still work.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser(description="Clerk Backend API stand-in")
    parser.add_argument("--state", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.state_path = args.state
    server.log_path = args.log
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
