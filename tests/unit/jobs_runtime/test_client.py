"""The HTTP client against httpx.MockTransport: wire format, auth, retry rules."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import random
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec

import httpx
import pytest
from jobs_runtime.client import ProductClient, auth_headers
from jobs_runtime.config import ApiVersion, Secret
from jobs_runtime.errors import ApiStatusError, ApiUnreachable, CredentialRefused, Stopped
from jobs_runtime.models import Product
from jobs_runtime.retry import RetryPolicy

KEY = "sk_unit_0123456789"
Handler = Callable[[httpx.Request], httpx.Response]
P = ParamSpec("P")


def run_async(test: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test body in a fresh event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def make_client(
    handler: Handler,
    *,
    version: ApiVersion = "v2",
    retries: int = 3,
    halt: asyncio.Event | None = None,
) -> ProductClient:
    return ProductClient(
        base_url="http://medusa.test/prefix",
        api_version=version,
        api_key=Secret(KEY),
        policy=RetryPolicy(max_retries=retries, backoff_seconds=0.001, max_backoff_seconds=0.01),
        timeout_seconds=5,
        max_connections=4,
        halt=halt,
        transport=httpx.MockTransport(handler),
        rng=random.Random(0),
    )


def page(*ids: str, count: int | None = None) -> httpx.Response:
    products = [{"id": i, "title": f"T {i}", "status": "draft"} for i in ids]
    body = {"products": products, "count": len(ids) if count is None else count}
    return httpx.Response(200, json={**body, "offset": 0, "limit": 50})


def test_auth_headers_per_version() -> None:
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    assert auth_headers("v2", Secret(KEY)) == {"Authorization": f"Basic {basic}"}
    assert auth_headers("v2", Secret("eyJhbGciOi.jwt")) == {
        "Authorization": "Bearer eyJhbGciOi.jwt"
    }
    assert auth_headers("v1", Secret("api_token_1")) == {"x-medusa-access-token": "api_token_1"}


@run_async
async def test_list_sends_status_as_an_array_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return page("prod_1", count=9)

    async with make_client(handler) as client:
        result = await client.list_products(statuses=("draft",), ids=None, limit=5, offset=10)

    assert result.count == 9
    assert result.products == [Product("prod_1", "draft", "T prod_1")]
    request = seen[0]
    assert request.url.path == "/prefix/admin/products"
    assert request.url.params.multi_items() == [
        ("status[]", "draft"),
        ("limit", "5"),
        ("offset", "10"),
        ("fields", "id,title,status"),
    ]
    assert b"status=draft" not in request.url.query


@run_async
async def test_publish_paths_and_bodies() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/batch"):
            return httpx.Response(
                200,
                json={
                    "created": [],
                    "updated": [{"id": "a", "status": "published"}],
                    "deleted": [],
                },
            )
        return httpx.Response(200, json={"product": {"id": "p/1", "status": "published"}})

    async with make_client(handler) as client:
        assert (await client.publish("p/1")).status == "published"
        assert await client.publish_batch(["a"]) == [Product("a", "published")]
    async with make_client(handler, version="v1") as client:
        await client.publish("p/1")

    single, batch, v1 = seen
    assert single.url.raw_path == b"/prefix/admin/products/p%2F1?fields=id%2Cstatus"
    assert single.headers["Content-Type"] == "application/json"
    assert json.loads(single.content) == {"status": "published"}
    assert json.loads(batch.content) == {"update": [{"id": "a", "status": "published"}]}
    assert v1.url.query == b""
    assert v1.headers["x-medusa-access-token"] == KEY


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@run_async
async def test_retryable_statuses_are_retried(status: int) -> None:
    answers = [httpx.Response(status), page("a")]

    async with make_client(lambda _request: answers.pop(0)) as client:
        result = await client.list_products(statuses=("draft",), ids=None, limit=1, offset=0)

    assert result.products[0].id == "a"
    assert answers == []


@run_async
async def test_connection_errors_and_malformed_bodies_are_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        if calls == 2:
            raise httpx.ReadTimeout("slow", request=request)
        if calls == 3:
            return httpx.Response(200, content=b"<html>")
        return page("a")

    async with make_client(handler) as client:
        await client.list_products(statuses=("draft",), ids=None, limit=1, offset=0)
    assert calls == 4


@pytest.mark.parametrize("status", [400, 404, 409, 422, 500])
@run_async
async def test_other_errors_are_not_retried(status: int) -> None:
    calls = 0

    def handler(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, json={"type": "invalid_data", "message": "nope"})

    async with make_client(handler) as client:
        with pytest.raises(ApiStatusError) as caught:
            await client.publish("a")
    assert calls == 1
    assert (caught.value.status, caught.value.error_type, caught.value.message) == (
        status,
        "invalid_data",
        "nope",
    )


@pytest.mark.parametrize("status", [401, 403])
@run_async
async def test_refused_credentials_are_not_retried(status: int) -> None:
    calls = 0

    def handler(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, text="Unauthorized")

    async with make_client(handler, version="v1") as client:
        with pytest.raises(CredentialRefused) as caught:
            await client.publish("a")
    assert calls == 1
    assert caught.value.detail == "Unauthorized"


@run_async
async def test_retries_run_out() -> None:
    async with make_client(lambda _r: httpx.Response(503), retries=2) as client:
        with pytest.raises(ApiUnreachable) as caught:
            await client.publish("a")
    assert caught.value.attempts == 3
    assert str(caught.value) == (
        "product API unavailable: POST /admin/products/a: HTTP 503 (after 3 attempts)"
    )


@run_async
async def test_no_retry_starts_after_halt() -> None:
    halt = asyncio.Event()
    calls = 0

    def handler(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        halt.set()
        return httpx.Response(503, headers={"Retry-After": "60"})

    async with make_client(handler, halt=halt) as client:
        with pytest.raises(Stopped):
            await client.publish("a")
    assert calls == 1


@run_async
async def test_echoed_credentials_are_cut_from_error_messages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": f"bad: {request.headers['Authorization']}"})

    async with make_client(handler) as client:
        with pytest.raises(ApiStatusError) as caught:
            await client.publish("a")
    assert caught.value.message == "bad: Basic ***"
