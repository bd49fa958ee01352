"""A stand-in for Medusa's admin product API (v2 and v1), with fault injection.

Standard library only, so the demo can run it without extra packages. It
speaks the parts of the contract the runtime depends on (DESIGN §5), as the
real backend does:

* paths ``GET/POST /admin/products``, ``GET/POST/DELETE /admin/products/{id}``,
  ``POST /admin/products/batch`` (v2 only; on v1 "batch" is taken as a product
  id and answered 404, as the v1 router would), optionally under a path prefix;
* list queries: ``status[]=…`` (a bare ``status=…`` is a 400), ``id``/``id[]``,
  ``limit`` (default 50, no maximum; negative → 500), ``offset``, ``fields``;
  unknown query keys → 400; answer ``{products, count, offset, limit}``;
* strict bodies: unknown keys → 400; a body is read as JSON only with
  ``Content-Type: application/json`` — otherwise it counts as ``{}``, so the
  write silently changes nothing (that is what Medusa's body parser does);
* batch: ``{create?, update?, delete?}``; all-or-nothing — if any id is
  missing, 404 and nothing changes; answer ``{created, updated, deleted}``;
* errors: ``{type, message}`` JSON (404 ``not_found``, 400 ``invalid_data``);
  401 is JSON ``{"message": "Unauthorized"}`` on v2 and plain text on v1;
* auth: v2 takes a secret key as ``Authorization: Basic base64("sk_…:")`` and
  refuses it as Bearer (and ignores ``x-medusa-access-token``); v1 takes
  ``x-medusa-access-token``;
* ``GET /_test/state`` (no auth, never under the prefix): product counts and
  list, for demos and tests.

Faults (:class:`Fault`) are injected before authentication, as a proxy or rate
limiter in front of the API would: latency, 429 with ``Retry-After``, bursts of
5xx, dropped connections, malformed JSON, and an error that echoes the
credential back (to prove the client never prints it). ``before``/``after``
hooks let a test change the catalogue mid-run (products deleted or published
by someone else).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

ApiVersion = Literal["v1", "v2"]
FaultAction = Literal["status", "throttle", "drop", "malformed", "leak_credential"]
#: Request kinds, for fault targeting and counters.
RequestKind = Literal["list", "get", "update", "batch", "delete", "create", "other"]

DEFAULT_API_KEY: Final = "sk_test_shopcron_local"
STATUSES: Final = frozenset({"draft", "proposed", "published", "rejected"})
_UPDATE_KEYS: Final = frozenset(
    {
        "title",
        "subtitle",
        "description",
        "handle",
        "status",
        "discountable",
        "thumbnail",
        "images",
        "metadata",
        "weight",
        "length",
        "height",
        "width",
        "hs_code",
        "mid_code",
        "origin_country",
        "material",
        "type_id",
        "collection_id",
        "tags",
        "categories",
        "sales_channels",
        "options",
        "variants",
    }
)
_WRITABLE_FIELDS: Final = ("title", "subtitle", "description", "handle", "status")
_LIST_KEYS: Final = frozenset({"status[]", "id", "id[]", "limit", "offset", "fields", "q", "order"})
_PRODUCT_FIELDS: Final = (
    "id",
    "title",
    "subtitle",
    "description",
    "handle",
    "status",
    "is_giftcard",
    "discountable",
    "thumbnail",
    "created_at",
    "updated_at",
    "deleted_at",
)


@dataclass
class StoredProduct:
    """One product in the in-memory catalogue."""

    id: str
    title: str
    handle: str
    status: str
    description: str | None = None
    subtitle: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def to_json(self, fields: tuple[str, ...] | None) -> dict[str, Any]:
        """The product as the API shows it: all default fields, or ``id`` plus ``fields``."""
        full: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "description": self.description,
            "handle": self.handle,
            "status": self.status,
            "is_giftcard": False,
            "discountable": True,
            "thumbnail": None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted_at": None,
            "variants": [],
            "options": [],
            "tags": [],
            "images": [],
        }
        if fields is None:
            return full
        return {"id": self.id, **{f: full[f] for f in fields if f in full}}


@dataclass
class Fault:
    """One kind of misbehaviour, applied to the next ``count`` matching requests.

    ``kinds`` limits it to request kinds (``list``, ``update``, ``batch``…);
    ``skip`` lets that many matching requests through first.
    """

    action: FaultAction
    count: int = 1
    kinds: frozenset[str] | None = None
    status: int = 503
    retry_after: str | None = "1"
    skip: int = 0

    def matches(self, kind: str) -> bool:
        """Whether this fault applies to a request of ``kind``."""
        return self.count > 0 and (self.kinds is None or kind in self.kinds)


@dataclass
class RequestInfo:
    """What a hook is told about a request."""

    kind: str
    method: str
    path: str
    status: int = 0
    product_ids: list[str] = field(default_factory=list)


Hook = Callable[["ProductAPI", RequestInfo], None]


class _ApiError(Exception):
    """Ends a request with an error answer."""

    def __init__(
        self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ProductAPI:
    """The test server: start it (or use it as a context manager), point a client at ``.url``.

    All public methods are thread-safe; counters are plain attributes read under
    the same lock by :meth:`snapshot`.
    """

    def __init__(
        self,
        *,
        drafts: int = 0,
        published: int = 0,
        api_key: str = DEFAULT_API_KEY,
        api_version: ApiVersion = "v2",
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0.0,
        prefix: str = "",
    ) -> None:
        self.api_key = api_key
        self.api_version: ApiVersion = api_version
        self.latency_ms = latency_ms
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.before: Hook | None = None
        self.after: Hook | None = None
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._products: dict[str, StoredProduct] = {}
        self._next_number = 1
        self._faults: list[Fault] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        #: Requests received per kind (including refused and faulted ones).
        self.requests: Counter[str] = Counter()
        #: Answers sent, per ``"kind status"``.
        self.responses: Counter[str] = Counter()
        #: How often each product was written with ``status: published``.
        self.publish_writes: Counter[str] = Counter()
        #: Faults applied, per action.
        self.faults_applied: Counter[str] = Counter()
        #: ``time.monotonic()`` of the first admin request (None until one comes).
        self.first_request_at: float | None = None
        self.add_products(drafts, "draft")
        self.add_products(published, "published")

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ProductAPI:
        """Bind and serve in a background thread."""
        server = _Server((self._host, self._port), _Handler, self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ProductAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://host:port`` without the prefix (where ``/_test/state`` lives)."""
        return f"http://{self._host}:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL to give a client (``SHOPCRON_API_URL``), prefix included."""
        return self.root_url + self.prefix

    # ------------------------------------------------------------------ catalogue
    def add_products(self, count: int, status: str = "draft") -> list[str]:
        """Add ``count`` products with ``status``; returns their ids."""
        ids: list[str] = []
        with self._lock:
            for _ in range(count):
                number = self._next_number
                self._next_number += 1
                pid = f"prod_{number:06d}"
                stamp = _now()
                self._products[pid] = StoredProduct(
                    id=pid,
                    title=f"Product {number}",
                    handle=f"product-{number}",
                    status=status,
                    created_at=stamp,
                    updated_at=stamp,
                )
                ids.append(pid)
        return ids

    def delete(self, product_ids: Iterable[str]) -> None:
        """Remove products (as an admin deleting them would)."""
        with self._lock:
            for pid in product_ids:
                self._products.pop(pid, None)

    def set_status(self, product_ids: Iterable[str], status: str) -> None:
        """Change status behind the client's back (someone else editing)."""
        with self._lock:
            for pid in product_ids:
                if pid in self._products:
                    self._products[pid].status = status

    def ids(self, status: str | None = None) -> list[str]:
        """Product ids in list order, optionally only those with ``status``."""
        with self._lock:
            return [p.id for p in self._products.values() if status is None or p.status == status]

    def state(self) -> dict[str, Any]:
        """What ``GET /_test/state`` returns."""
        with self._lock:
            products = [
                {"id": p.id, "title": p.title, "status": p.status} for p in self._products.values()
            ]
            return {
                "draft": sum(1 for p in products if p["status"] == "draft"),
                "published": sum(1 for p in products if p["status"] == "published"),
                "products": products,
                "requests": dict(self.requests),
            }

    # ------------------------------------------------------------------ faults and counters
    def inject(self, *faults: Fault) -> None:
        """Queue faults; the first matching one with requests left applies."""
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def reset_counters(self) -> None:
        """Zero the counters (between runs against the same catalogue)."""
        with self._lock:
            self.requests.clear()
            self.responses.clear()
            self.publish_writes.clear()
            self.faults_applied.clear()
            self.first_request_at = None

    def total_requests(self) -> int:
        """Admin API requests received (``/_test`` excluded)."""
        with self._lock:
            return sum(self.requests.values())

    def _take_fault(self, kind: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not fault.matches(kind):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.count -= 1
                self.faults_applied[fault.action] += 1
                return fault
        return None

    # ------------------------------------------------------------------ request handling
    def _authorize(self, headers: Any) -> None:
        unauthorized = (
            _ApiError(401, "Unauthorized")
            if self.api_version == "v1"
            else _ApiError(401, {"message": "Unauthorized"})
        )
        if self.api_version == "v1":
            if headers.get("x-medusa-access-token") == self.api_key:
                return
            raise unauthorized
        auth = headers.get("Authorization") or ""
        scheme, _, credentials = auth.partition(" ")
        if scheme.lower() != "basic":
            # A secret key sent as Bearer is refused, and v2 ignores x-medusa-access-token.
            raise unauthorized
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized from None
        user, sep, _password = decoded.partition(":")
        if not sep or not user.startswith("sk_") or user != self.api_key:
            raise unauthorized

    def _route(self, method: str, path: str) -> tuple[str, str | None]:
        """Map a path (prefix removed) to a request kind and product id."""
        base = "/admin/products"
        if path in (base, base + "/"):
            return ("list" if method == "GET" else "create" if method == "POST" else "other"), None
        if path.startswith(base + "/"):
            rest = unquote(path[len(base) + 1 :])
            if "/" in rest or not rest:
                return "other", None
            if rest == "batch" and self.api_version == "v2" and method == "POST":
                return "batch", None
            kind = {"GET": "get", "POST": "update", "DELETE": "delete"}.get(method, "other")
            return kind, rest
        return "other", None

    def handle(
        self, method: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes | None]:
        """Answer one request: (status, headers, body); body None means drop the connection."""
        parts = urlsplit(raw_path)
        if parts.path == "/_test/state" and method == "GET":
            return _json_answer(200, self.state())
        path = parts.path
        if self.prefix and not (path == self.prefix or path.startswith(self.prefix + "/")):
            return _html_404(method, path)
        path = path[len(self.prefix) :] or "/"
        kind, product_id = self._route(method, path)
        with self._lock:
            self.requests[kind] += 1
            if self.first_request_at is None:
                self.first_request_at = time.monotonic()
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        info = RequestInfo(kind=kind, method=method, path=path)
        if self.before is not None:
            self.before(self, info)
        fault = self._take_fault(kind)
        if fault is not None:
            answer = self._fault_answer(fault, headers)
            with self._lock:
                self.responses[f"{kind} {answer[0] if answer[2] is not None else 'drop'}"] += 1
            return answer
        try:
            self._authorize(headers)
            status, payload = self._dispatch(
                kind, product_id, method, path, parts.query, headers, body, info
            )
            answer = _json_answer(status, payload)
        except _ApiError as exc:
            if kind == "other" and exc.status == 404 and isinstance(exc.body, str):
                answer = _html_404(method, path)
            elif isinstance(exc.body, str):
                answer = (
                    exc.status,
                    {"Content-Type": "text/plain; charset=utf-8", **exc.headers},
                    exc.body.encode(),
                )
            else:
                status, hdrs, data = _json_answer(exc.status, exc.body)
                answer = (status, {**hdrs, **exc.headers}, data)
        info.status = answer[0]
        with self._lock:
            self.responses[f"{kind} {answer[0]}"] += 1
        if self.after is not None:
            self.after(self, info)
        return answer

    def _fault_answer(self, fault: Fault, headers: Any) -> tuple[int, dict[str, str], bytes | None]:
        if fault.action == "drop":
            return 0, {}, None
        if fault.action == "malformed":
            data = b'{"products": [{"id": "prod_'
            return 200, {"Content-Type": "application/json; charset=utf-8"}, data
        if fault.action == "throttle":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            status, hdrs, data = _json_answer(
                429, {"type": "not_allowed", "message": "Too many requests, slow down"}
            )
            return status, {**hdrs, **extra}, data
        if fault.action == "leak_credential":
            echoed = headers.get("Authorization") or headers.get("x-medusa-access-token") or ""
            return _json_answer(
                400, {"type": "invalid_data", "message": f"Invalid credential header: {echoed}"}
            )
        return _json_answer(
            fault.status,
            {"code": "api_error", "type": "unknown_error", "message": "An unknown error occurred."},
        )

    def _invalid(self, message: str) -> _ApiError:
        if self.api_version == "v2":
            message = f"Invalid request: {message}"
        return _ApiError(400, {"type": "invalid_data", "message": message})

    def _unknown_keys(self, keys: Iterable[str]) -> _ApiError:
        keys = sorted(set(keys))
        if self.api_version == "v2":
            listed = ", ".join(f"'{k}'" for k in keys)
            return self._invalid(f"Unrecognized fields: {listed}")
        return self._invalid(", ".join(f"property {k} should not exist" for k in keys))

    def _not_found(self, missing: list[str]) -> _ApiError:
        if len(missing) == 1:
            message = f"Product with id: {missing[0]} was not found"
        else:
            message = f"Products with ids: {', '.join(missing)} were not found"
        return _ApiError(404, {"type": "not_found", "message": message})

    def _dispatch(
        self,
        kind: str,
        product_id: str | None,
        method: str,
        path: str,
        query: str,
        headers: Any,
        body: bytes,
        info: RequestInfo,
    ) -> tuple[int, dict[str, Any]]:
        params = parse_qsl(query, keep_blank_values=True)
        if kind == "list":
            return 200, self._list(params)
        if kind == "get" and product_id is not None:
            fields = self._fields_only(params)
            with self._lock:
                product = self._products.get(product_id)
                if product is None:
                    raise self._not_found([product_id])
                return 200, {"product": product.to_json(fields)}
        if kind == "update" and product_id is not None:
            fields = self._write_fields(params)
            payload = self._json_body(headers, body)
            self._check_update(payload)
            info.product_ids = [product_id]
            with self._lock:
                product = self._products.get(product_id)
                if product is None:
                    raise self._not_found([product_id])
                self._apply(product, payload)
                return 200, {"product": product.to_json(fields)}
        if kind == "batch":
            fields = self._write_fields(params)
            return 200, self._batch(self._json_body(headers, body), fields, info)
        if kind == "delete" and product_id is not None:
            with self._lock:
                if self._products.pop(product_id, None) is None:
                    raise self._not_found([product_id])
            return 200, {"id": product_id, "object": "product", "deleted": True}
        if kind == "create":
            raise self._invalid("creating products is not supported by this test server")
        raise _ApiError(404, f"Cannot {method} {path}")

    def _fields_only(self, params: list[tuple[str, str]]) -> tuple[str, ...] | None:
        unknown = {k for k, _ in params if k != "fields"}
        if unknown:
            raise self._unknown_keys(unknown)
        return _parse_fields(params)

    def _write_fields(self, params: list[tuple[str, str]]) -> tuple[str, ...] | None:
        if self.api_version == "v1" and params:
            raise self._unknown_keys(k for k, _ in params)
        return self._fields_only(params)

    def _list(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        keys = {k for k, _ in params}
        if "status" in keys:
            if self.api_version == "v2":
                raise self._invalid("Expected type: 'array' for field 'status', got: 'string'")
            raise self._invalid("status must be an array")
        unknown = keys - _LIST_KEYS
        if unknown:
            raise self._unknown_keys(unknown)
        statuses = {v for k, v in params if k == "status[]"}
        bad = statuses - STATUSES
        if bad:
            raise self._invalid(f"Invalid enum value for status: {', '.join(sorted(bad))}")
        ids = {v for k, v in params if k in ("id", "id[]")}
        limit = _int_param(params, "limit", 50, self._invalid)
        offset = _int_param(params, "offset", 0, self._invalid)
        if limit < 0 or offset < 0:
            raise _ApiError(
                500,
                {
                    "code": "unknown_error",
                    "type": "unknown_error",
                    "message": "An unknown error occurred.",
                },
            )
        fields = _parse_fields(params)
        with self._lock:
            matching = [
                p
                for p in self._products.values()
                if (not statuses or p.status in statuses) and (not ids or p.id in ids)
            ]
            page = [p.to_json(fields) for p in matching[offset : offset + limit]]
        return {"products": page, "count": len(matching), "offset": offset, "limit": limit}

    def _json_body(self, headers: Any, body: bytes) -> dict[str, Any]:
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return {}  # Medusa's JSON parser skips other types: the body becomes {}
        try:
            payload = json.loads(body or b"{}")
        except ValueError as exc:
            raise self._invalid(f"Unexpected token in JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise self._invalid("Expected object, received " + type(payload).__name__)
        return payload

    def _check_update(self, payload: dict[str, Any], *, with_id: bool = False) -> None:
        allowed = _UPDATE_KEYS | {"id"} if with_id else _UPDATE_KEYS
        unknown = set(payload) - allowed
        if unknown:
            raise self._unknown_keys(unknown)
        status = payload.get("status")
        if status is not None and status not in STATUSES:
            raise self._invalid(f"Invalid enum value for status: {status}")
        for key in _WRITABLE_FIELDS:
            if key in payload and payload[key] is not None and not isinstance(payload[key], str):
                raise self._invalid(f"Expected string for field '{key}'")

    def _apply(self, product: StoredProduct, payload: dict[str, Any]) -> None:
        for key in _WRITABLE_FIELDS:
            if key in payload:
                setattr(product, key, payload[key])
        if payload:
            product.updated_at = _now()
        if payload.get("status") == "published":
            self.publish_writes[product.id] += 1

    def _batch(
        self, payload: dict[str, Any], fields: tuple[str, ...] | None, info: RequestInfo
    ) -> dict[str, Any]:
        unknown = set(payload) - {"create", "update", "delete"}
        if unknown:
            raise self._unknown_keys(unknown)
        if payload.get("create"):
            raise self._invalid("creating products is not supported by this test server")
        updates = payload.get("update") or []
        deletes = payload.get("delete") or []
        if not isinstance(updates, list) or not all(isinstance(u, dict) for u in updates):
            raise self._invalid("Expected array of objects for field 'update'")
        if not isinstance(deletes, list) or not all(isinstance(d, str) for d in deletes):
            raise self._invalid("Expected array of strings for field 'delete'")
        for update in updates:
            if not isinstance(update.get("id"), str):
                raise self._invalid("Required field 'id' is missing in 'update'")
            self._check_update(update, with_id=True)
        info.product_ids = [u["id"] for u in updates]
        with self._lock:
            missing = [pid for pid in [*info.product_ids, *deletes] if pid not in self._products]
            if missing:
                raise self._not_found(missing)  # all or nothing, like the workflow's rollback
            updated = []
            for update in updates:
                product = self._products[update["id"]]
                self._apply(product, {k: v for k, v in update.items() if k != "id"})
                updated.append(product.to_json(fields))
            for pid in deletes:
                del self._products[pid]
        return {
            "created": [],
            "updated": updated,
            "deleted": {"ids": deletes, "object": "product", "deleted": True},
        }


def _parse_fields(params: list[tuple[str, str]]) -> tuple[str, ...] | None:
    raw = [v for k, v in params if k == "fields"]
    if not raw:
        return None
    given = [n.strip() for value in raw for n in value.split(",") if n.strip()]
    names = tuple(n.lstrip("+-*") for n in given)
    if any(n.startswith("+") for n in given):
        return (*_PRODUCT_FIELDS, *names)  # "+x" adds x to the default fields
    return names


def _int_param(
    params: list[tuple[str, str]], name: str, default: int, invalid: Callable[[str], _ApiError]
) -> int:
    values = [v for k, v in params if k == name]
    if not values:
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise invalid(f"Expected number, received nan for field '{name}'") from None


def _json_answer(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(payload, separators=(",", ":")).encode()
    return status, {"Content-Type": "application/json; charset=utf-8"}, data


def _html_404(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    body = f"<!DOCTYPE html><html><body><pre>Cannot {method} {path}</pre></body></html>"
    return 404, {"Content-Type": "text/html; charset=utf-8"}, body.encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: ProductAPI
    ) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Unblock handler threads waiting on idle keep-alive connections."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shopcron-test-product-api"
    sys_version = ""
    timeout = 30
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm
        # and delayed ACKs add ~40 ms to many answers and distort every timing.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read the runtime's output, not the server's."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, data = self.server.api.handle(self.command, self.path, self.headers, body)
        if data is None:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
