"""A deliberately small Kubernetes REST client for the local node agent.

The node agent speaks plain JSON to the API server (lists, watches, merge patches,
subresources) and needs nothing the generated client adds, so it uses the standard
library: one HTTPS connection per request, one long connection per watch. Only what
the harness's kubeconfig uses is supported: a token or token file, a client
certificate, a CA file or inline CA data.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

JSON = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


class ApiError(Exception):
    """The API server answered with a non-2xx status (or could not be reached: status 0)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Credentials:
    server: str
    token: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False


def _data_file(directory: Path, name: str, data_b64: str) -> str:
    path = directory / name
    path.write_bytes(base64.b64decode(data_b64))
    path.chmod(0o600)
    return str(path)


def load_kubeconfig(path: Path, context: str | None = None) -> Credentials:
    """Read the server and credentials of one context (the current one by default)."""
    config: JSON = yaml.safe_load(path.read_text())
    name = context or config.get("current-context")
    contexts = {c["name"]: c["context"] for c in config.get("contexts", [])}
    if name not in contexts:
        raise ValueError(f"{path}: context {name!r} not found")
    ctx = contexts[name]
    cluster = {c["name"]: c["cluster"] for c in config.get("clusters", [])}[ctx["cluster"]]
    user = {u["name"]: u["user"] for u in config.get("users", [])}.get(ctx.get("user"), {})
    base = path.parent

    def rel(value: str | None) -> str | None:
        return None if value is None else str((base / value).resolve())

    inline = Path(tempfile.mkdtemp(prefix="kubeapi-"))
    ca_file = rel(cluster.get("certificate-authority"))
    if cluster.get("certificate-authority-data"):
        ca_file = _data_file(inline, "ca.crt", cluster["certificate-authority-data"])
    cert_file = rel(user.get("client-certificate"))
    if user.get("client-certificate-data"):
        cert_file = _data_file(inline, "client.crt", user["client-certificate-data"])
    key_file = rel(user.get("client-key"))
    if user.get("client-key-data"):
        key_file = _data_file(inline, "client.key", user["client-key-data"])
    token = user.get("token")
    if token is None and user.get("tokenFile"):
        token = Path(str(rel(user["tokenFile"]))).read_text().strip()
    return Credentials(
        server=cluster["server"],
        token=token,
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
    )


class KubeApi:
    """JSON over HTTPS to one API server."""

    def __init__(self, credentials: Credentials, timeout: float = 30.0) -> None:
        self.credentials = credentials
        self.timeout = timeout
        url = urllib.parse.urlsplit(credentials.server)
        if url.scheme != "https" or url.hostname is None:
            raise ValueError(f"only https API servers are supported, not {credentials.server}")
        self._host = url.hostname
        self._port = url.port or 443
        self._prefix = url.path.rstrip("/")
        context = ssl.create_default_context(cafile=credentials.ca_file)
        if credentials.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if credentials.cert_file and credentials.key_file:
            context.load_cert_chain(credentials.cert_file, credentials.key_file)
        self._ssl = context

    @classmethod
    def from_kubeconfig(cls, path: Path, context: str | None = None) -> KubeApi:
        return cls(load_kubeconfig(path, context))

    def _connect(self, timeout: float | None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            self._host, self._port, timeout=timeout, context=self._ssl
        )

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "shopcron-local-node"}
        if self.credentials.token:
            headers["Authorization"] = f"Bearer {self.credentials.token}"
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _url(self, path: str, params: Mapping[str, str | int | bool] | None) -> str:
        query = ""
        if params:
            encoded = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
            query = "?" + urllib.parse.urlencode(encoded)
        return f"{self._prefix}{path}{query}"

    def request(
        self,
        method: str,
        path: str,
        body: JSON | None = None,
        *,
        params: Mapping[str, str | int | bool] | None = None,
        content_type: str = "application/json",
    ) -> JSON:
        payload = None if body is None else json.dumps(body).encode()
        conn = self._connect(self.timeout)
        try:
            conn.request(
                method,
                self._url(path, params),
                body=payload,
                headers=self._headers(content_type if payload is not None else None),
            )
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError(0, "Unreachable", f"{method} {path}: {exc}") from exc
        finally:
            conn.close()
        if response.status >= 300:
            raise _error(response.status, raw)
        result: JSON = json.loads(raw) if raw else {}
        return result

    def get(self, path: str, **params: str | int | bool) -> JSON:
        return self.request("GET", path, params=params)

    def watch(
        self, path: str, params: Mapping[str, str | int | bool], *, read_timeout: float
    ) -> Iterator[JSON]:
        """Yield watch events ({type, object}) until the server ends the stream.

        `read_timeout` bounds the silence between two lines; ask for bookmarks (or a
        server-side timeoutSeconds shorter than it) so a quiet stream is not an error.
        """
        conn = self._connect(read_timeout)
        try:
            conn.request(
                "GET", self._url(path, {**params, "watch": "true"}), headers=self._headers(None)
            )
            response = conn.getresponse()
            if response.status >= 300:
                raise _error(response.status, response.read())
            while True:
                line = response.readline()
                if not line:
                    return
                if line.strip():
                    event: JSON = json.loads(line)
                    yield event
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError(0, "Unreachable", f"watch {path}: {exc}") from exc
        finally:
            conn.close()


def _error(status: int, raw: bytes) -> ApiError:
    try:
        body = json.loads(raw)
        return ApiError(status, str(body.get("reason", "")), str(body.get("message", "")))
    except ValueError:
        return ApiError(status, "", raw.decode(errors="replace")[:500])
