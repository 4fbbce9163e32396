"""A local fake of Twilio's Messages REST endpoint on 127.0.0.1 (a free port): it records what the
official SDK posts and answers like Twilio does. No test reaches the real Twilio."""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token"
FROM_NUMBER = "+447700900000"


class FakeTwilio:
    def __init__(self):
        self.messages: list[dict] = []
        self.auth_headers: list[str] = []
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                match = re.fullmatch(r"/2010-04-01/Accounts/(\w+)/Messages\.json", self.path)
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                fake.auth_headers.append(self.headers.get("Authorization", ""))
                if not match or self.headers.get("Authorization") != expected:
                    return self._answer(401 if match else 404, {"code": 20003, "message": "Authenticate"})
                form = {k: v[0] for k, v in parse_qs(body).items()}
                sid = f"SM{next(fake._ids):032x}"
                fake.messages.append({**form, "sid": sid})
                self._answer(201, {"sid": sid, "account_sid": match.group(1), "to": form.get("To"),
                                   "from": form.get("From"), "body": form.get("Body"), "status": "queued"})

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
