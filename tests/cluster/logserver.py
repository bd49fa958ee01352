"""The kubelet's log endpoint, for `kubectl logs [-f]` against the local node.

The API server proxies `kubectl logs` to `https://<node InternalIP>:<kubeletEndpoint
port>/containerLogs/<ns>/<pod>/<container>`; without --kubelet-certificate-authority
it does not verify the node's certificate, so a self-signed one made here is enough.
Served from the per-pod log files; `follow` streams until the process has exited.
Only loopback is listened on. `timestamps` and `sinceSeconds` are ignored (the files
hold the raw output, as `tail -f` users expect).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from tests.cluster.node import NodeConfig

IsRunning = Callable[[str, str], bool]


def make_serving_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed loopback certificate (regenerated each start; nothing to keep)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local-node")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "node.crt", directory / "node.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def tail_lines(data: bytes, lines: int) -> bytes:
    if lines < 0:
        return data
    if lines == 0:
        return b""
    parts = data.splitlines(keepends=True)
    return b"".join(parts[-lines:])


class LogServer:
    def __init__(self, config: NodeConfig, is_running: IsRunning, *, port: int = 0) -> None:
        self.config = config
        self.is_running = is_running
        cert, key = make_serving_cert(config.state_dir / "node-pki")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        handler = self._handler_class()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="logs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def log_message(self, format: str, *args: object) -> None:
                return

            def _text(self, code: int, text: str) -> None:
                body = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                parts = url.path.strip("/").split("/")
                if url.path == "/healthz":
                    self._text(200, "ok")
                    return
                if len(parts) != 4 or parts[0] != "containerLogs":
                    self._text(404, f"not found: {url.path}")
                    return
                _, namespace, pod, container = parts
                if query.get("previous", ["false"])[0] == "true":
                    self._text(
                        400, f'previous terminated container "{container}" in pod "{pod}" not found'
                    )
                    return
                path = owner.config.log_path(namespace, pod)
                if not path.exists():
                    self._text(400, f'container "{container}" in pod "{pod}" is waiting to start')
                    return
                follow = query.get("follow", ["false"])[0] == "true"
                tail = int(query.get("tailLines", ["-1"])[0])
                limit = int(query.get("limitBytes", ["0"])[0]) or None
                with contextlib.suppress(OSError):
                    self._stream(path, namespace, pod, follow=follow, tail=tail, limit=limit)

            def _stream(
                self,
                path: Path,
                namespace: str,
                pod: str,
                *,
                follow: bool,
                tail: int,
                limit: int | None,
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                sent = 0
                with path.open("rb") as handle:
                    chunk = tail_lines(handle.read(), tail)
                    while True:
                        if chunk:
                            if limit is not None:
                                chunk = chunk[: max(0, limit - sent)]
                            self.wfile.write(chunk)
                            self.wfile.flush()
                            sent += len(chunk)
                            if limit is not None and sent >= limit:
                                return
                        if not follow:
                            return
                        running = owner.is_running(namespace, pod)
                        chunk = handle.read()
                        if not chunk and not running:
                            return
                        if not chunk:
                            time.sleep(0.2)

        return Handler
