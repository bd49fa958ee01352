"""The product API over HTTP (Medusa admin API v2 and v1), with retries.

The only module that imports httpx. The transport is injectable (tests pass
``httpx.MockTransport``), and every request goes through one retry loop:

* retried, with exponential backoff and jitter: connection errors, timeouts,
  429 (honouring ``Retry-After``), 502, 503, 504, and a 2xx whose body is not
  the JSON we expect. Retrying a publish is safe: setting ``status`` to
  ``published`` twice has the same effect as once.
* not retried: 401/403 (:class:`CredentialRefused`) and every other error
  status (:class:`ApiStatusError`, with Medusa's error ``type`` and ``message``).

A stop request (SIGTERM) or a fatal error elsewhere sets the ``halt`` event:
requests already on the wire finish, but no retry starts after it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx

from jobs_runtime import __version__
from jobs_runtime.config import ApiVersion, Secret
from jobs_runtime.errors import ApiStatusError, ApiUnreachable, CredentialRefused, Stopped
from jobs_runtime.logs import redact, secret_variants
from jobs_runtime.models import Product, ProductPage
from jobs_runtime.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after, retry_delay

T = TypeVar("T")

log = logging.getLogger(__name__)

PRODUCTS_PATH: Final = "/admin/products"
#: Asked for in listings so responses stay small but log lines can name products.
LIST_FIELDS: Final = "id,title,status"
#: Asked for on v2 writes: enough to confirm the new status.
WRITE_FIELDS: Final = "id,status"
_PUBLISH_BODY: Final = {"status": "published"}
_DETAIL_LIMIT: Final = 200


def auth_headers(api_version: ApiVersion, key: Secret) -> dict[str, str]:
    """The credential header for each API flavour.

    v2: a secret API key (``sk_…``) goes as HTTP Basic with the key as user name
    and an empty password (v2 refuses it as Bearer); anything else is taken to be
    a JWT and goes as Bearer. v1 (1.17+): ``x-medusa-access-token``.
    """
    raw = key.reveal()
    if api_version == "v1":
        return {"x-medusa-access-token": raw}
    if raw.startswith("sk_"):
        token = base64.b64encode(f"{raw}:".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    return {"Authorization": f"Bearer {raw}"}


class ProductClient:
    """Async client for the admin product endpoints; use as ``async with``."""

    def __init__(
        self,
        *,
        base_url: str,
        api_version: ApiVersion,
        api_key: Secret,
        policy: RetryPolicy,
        timeout_seconds: float,
        max_connections: int,
        halt: asyncio.Event | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.api_version: ApiVersion = api_version
        self._policy = policy
        self._halt = halt if halt is not None else asyncio.Event()
        self._rng = rng if rng is not None else random.Random()
        self._secrets = secret_variants(api_key.reveal())
        headers = {
            "Accept": "application/json",
            "User-Agent": f"shopcron-jobs-runtime/{__version__}",
            **auth_headers(api_version, api_key),
        }
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        if transport is None:
            # A plain-http URL never uses TLS (redirects are not followed): skip loading
            # the CA bundle, which costs ~80 ms of start-up. https URLs verify as usual.
            transport = httpx.AsyncHTTPTransport(
                limits=limits, verify=not base_url.startswith("http://")
            )
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> ProductClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    @property
    def supports_batch(self) -> bool:
        """Only v2 has ``POST /admin/products/batch``."""
        return self.api_version == "v2"

    async def list_products(
        self,
        *,
        statuses: Sequence[str] | None,
        ids: Sequence[str] | None,
        limit: int,
        offset: int,
    ) -> ProductPage:
        """``GET /admin/products`` with ``status[]``/``id[]`` filters and offset paging.

        The array keys are spelled ``status[]`` on purpose: httpx would send a list
        under ``status`` as a bare ``status=draft``, which Medusa rejects with 400.
        """
        params: list[tuple[str, str]] = [("status[]", s) for s in statuses or ()]
        params += [("id[]", i) for i in ids or ()]
        params += [("limit", str(limit)), ("offset", str(offset)), ("fields", LIST_FIELDS)]
        return await self._request("GET", PRODUCTS_PATH, params=params, parse=_parse_page)

    async def publish(self, product_id: str) -> Product:
        """``POST /admin/products/{id}`` with ``{"status": "published"}``."""
        params = [("fields", WRITE_FIELDS)] if self.api_version == "v2" else []
        return await self._request(
            "POST",
            f"{PRODUCTS_PATH}/{quote(product_id, safe='')}",
            params=params,
            body=_PUBLISH_BODY,
            parse=_parse_single,
        )

    async def publish_batch(self, product_ids: Sequence[str]) -> list[Product]:
        """``POST /admin/products/batch`` (v2) with one ``update`` entry per product."""
        body = {"update": [{"id": pid, **_PUBLISH_BODY} for pid in product_ids]}
        return await self._request(
            "POST",
            f"{PRODUCTS_PATH}/batch",
            params=[("fields", WRITE_FIELDS)],
            body=body,
            parse=_parse_batch,
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]],
        parse: Callable[[Any], T],
        body: object = None,
    ) -> T:
        """Send one logical request, retrying what the policy allows; return the parsed body."""
        query = httpx.QueryParams(tuple(params))
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = await self._http.request(method, path, params=query, json=body)
            except httpx.TimeoutException:
                reason = "request timed out"
            except httpx.TransportError as exc:
                reason = f"connection error ({type(exc).__name__})"
            else:
                status = response.status_code
                if status in (401, 403):
                    raise CredentialRefused(status, self._error_detail(response)[1])
                if status in RETRYABLE_STATUSES:
                    reason = f"HTTP {status}"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                elif status >= 300:
                    error_type, message = self._error_detail(response)
                    raise ApiStatusError(status, error_type, message)
                else:
                    try:
                        return parse(response.json())
                    except ValueError as exc:
                        reason = f"malformed response ({_short(str(exc))})"
            if attempt > self._policy.max_retries:
                raise ApiUnreachable(f"{method} {path}: {reason}", attempt)
            if self._halt.is_set():
                raise Stopped
            delay = retry_delay(self._policy, attempt, retry_after, self._rng)
            log.warning(
                "Retrying %s %s after %s (retry %d of %d in %.2fs)",
                method,
                path,
                reason,
                attempt,
                self._policy.max_retries,
                delay,
            )
            await self._pause(delay)

    def _error_detail(self, response: httpx.Response) -> tuple[str | None, str]:
        """The error's type and message, with the credential cut out should the API echo it."""
        error_type, message = _error_detail(response)
        return error_type, redact(message, self._secrets)

    async def _pause(self, seconds: float) -> None:
        """Sleep before a retry, but give up at once if the run is being halted."""
        try:
            await asyncio.wait_for(self._halt.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise Stopped


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


def _error_detail(response: httpx.Response) -> tuple[str | None, str]:
    """Medusa's error ``type`` and ``message`` (v2 and v1 JSON), or the start of a text body."""
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
        return None, _short(text) if text else response.reason_phrase
    if isinstance(data, dict):
        message = data.get("message")
        error_type = data.get("type")
        return (
            error_type if isinstance(error_type, str) else None,
            _short(message) if isinstance(message, str) else _short(str(data)),
        )
    return None, _short(str(data))


def _product(raw: object) -> Product:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ValueError("a product without an id")
    status = raw.get("status")
    title = raw.get("title")
    return Product(
        id=raw["id"],
        status=status if isinstance(status, str) else None,
        title=title if isinstance(title, str) else None,
    )


def _parse_page(data: object) -> ProductPage:
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        raise ValueError("no 'products' list")
    count = data.get("count")
    if not isinstance(count, int) or isinstance(count, bool):
        raise ValueError("no integer 'count'")
    return ProductPage(products=[_product(p) for p in data["products"]], count=count)


def _parse_single(data: object) -> Product:
    if not isinstance(data, dict):
        raise ValueError("no 'product' object")
    return _product(data.get("product"))


def _parse_batch(data: object) -> list[Product]:
    if not isinstance(data, dict) or not isinstance(data.get("updated"), list):
        raise ValueError("no 'updated' list")
    return [_product(p) for p in data["updated"]]
