"""A real Synapse homeserver (matrix-synapse from PyPI) on 127.0.0.1, for tests and benchmarks.

The configuration is written here rather than generated: one listener on 127.0.0.1 serving only the
client API, SQLite, no federation, no key servers, no statistics, no URL previews, shared-secret
registration and every rate limit raised (with the defaults, message 11 onwards is throttled).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SHARED_SECRET = "pocnet-test-registration-secret"
_UNLIMITED = "{per_second: 100000, burst_count: 100000}"

CONFIG = """\
server_name: "localhost"
public_baseurl: "http://127.0.0.1:{port}/"
pid_file: "{dir}/homeserver.pid"
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{dir}/homeserver.db"
log_config: "{dir}/log.yaml"
media_store_path: "{dir}/media"
signing_key_path: "{dir}/signing.key"
registration_shared_secret: "{secret}"
enable_registration: false
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
bcrypt_rounds: 4
url_preview_enabled: false
presence:
  enabled: false
enable_metrics: false
rc_message: {u}
rc_registration: {u}
rc_login: {{address: {u}, account: {u}, failed_attempts: {u}}}
rc_joins: {{local: {u}, remote: {u}}}
rc_joins_per_room: {u}
rc_invites: {{per_room: {u}, per_user: {u}, per_issuer: {u}}}
rc_admin_redaction: {u}
rc_key_requests: {u}
rc_3pid_validation: {u}
rc_media_create: {u}
"""

LOG_CONFIG = """\
version: 1
formatters:
  precise: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}
handlers:
  file: {class: logging.FileHandler, formatter: precise, filename: 'DIR/homeserver.log'}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Synapse:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "homeserver.yaml").write_text(
            CONFIG.format(port=self.port, dir=directory, secret=SHARED_SECRET, u=_UNLIMITED)
        )
        (directory / "log.yaml").write_text(LOG_CONFIG.replace("DIR", str(directory)))
        self._run("--generate-keys")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.dir / "homeserver.yaml"), *args],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def start(self, wait: float = 60.0) -> None:
        log = (self.dir / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.dir / "homeserver.yaml")],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "SYNAPSE_ASYNC_IO_REACTOR": "0"},
        )  # fmt: skip
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited: {(self.dir / 'stdout.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Synapse did not answer in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:  # a test server keeps nothing: when a client's long poll holds it up, it is killed
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def register(self, username: str, password: str = "password", *, admin: bool = False) -> str:
        """Create an account through the shared-secret admin API; returns the Matrix user id."""
        with urllib.request.urlopen(f"{self.url}/_synapse/admin/v1/register", timeout=10) as response:
            nonce = json.loads(response.read())["nonce"]
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        for part in (nonce, username, password, "admin" if admin else "notadmin"):
            mac.update(part.encode())
            if part != ("admin" if admin else "notadmin"):
                mac.update(b"\x00")
        body = json.dumps({"nonce": nonce, "username": username, "password": password, "admin": admin,
                           "mac": mac.hexdigest()}).encode()  # fmt: skip
        request = urllib.request.Request(
            f"{self.url}/_synapse/admin/v1/register", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.loads(response.read())["user_id"])
