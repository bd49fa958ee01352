"""The test product API keeps Medusa's contract (DESIGN §5), so the runtime is tested against it."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.jobs_runtime.helpers import API_KEY, wait_until
from tests.support.product_api import ProductAPI

MakeApi = Callable[..., ProductAPI]
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()}
V1 = {"x-medusa-access-token": API_KEY}


@pytest.fixture
def v2(make_api: MakeApi) -> Iterator[httpx.Client]:
    api = make_api(drafts=7, published=2, api_version="v2")
    with httpx.Client(base_url=api.url, headers=BASIC) as client:
        yield client


@pytest.fixture
def v1(make_api: MakeApi) -> Iterator[httpx.Client]:
    api = make_api(drafts=3, api_version="v1")
    with httpx.Client(base_url=api.url, headers=V1) as client:
        yield client


def test_list_with_status_array_paging_count_and_fields(v2: httpx.Client) -> None:
    response = v2.get(
        "/admin/products",
        params=[("status[]", "draft"), ("limit", "3"), ("offset", "5"), ("fields", "id,status")],
    )
    assert response.status_code == 200
    assert response.json() == {
        "products": [
            {"id": "prod_000006", "status": "draft"},
            {"id": "prod_000007", "status": "draft"},
        ],
        "count": 7,
        "offset": 5,
        "limit": 3,
    }


def test_default_limit_is_50_and_full_products_without_fields(make_api: MakeApi) -> None:
    api = make_api(drafts=60)
    with httpx.Client(base_url=api.url, headers=BASIC) as client:
        body = client.get("/admin/products").json()
    assert (body["limit"], body["count"], len(body["products"])) == (50, 60, 50)
    assert {"id", "title", "status", "handle", "variants"} <= set(body["products"][0])


def test_bare_status_and_unknown_query_keys_are_400(v2: httpx.Client, v1: httpx.Client) -> None:
    bare = v2.get("/admin/products", params={"status": ["draft"]})  # httpx sends status=draft
    assert bare.status_code == 400
    assert bare.json()["type"] == "invalid_data"
    assert v1.get("/admin/products?status=draft").status_code == 400
    unknown = v2.get("/admin/products", params={"colour": "red"})
    assert unknown.status_code == 400
    assert "Unrecognized fields: 'colour'" in unknown.json()["message"]


def test_negative_limit_is_a_500(v2: httpx.Client) -> None:
    assert v2.get("/admin/products", params={"limit": "-1"}).status_code == 500


def test_update_is_strict_and_404_has_medusa_body(v2: httpx.Client) -> None:
    ok = v2.post("/admin/products/prod_000001?fields=id,status", json={"status": "published"})
    assert ok.json() == {"product": {"id": "prod_000001", "status": "published"}}
    extra = v2.post("/admin/products/prod_000002", json={"status": "published", "force": True})
    assert extra.status_code == 400
    assert "Unrecognized fields: 'force'" in extra.json()["message"]
    missing = v2.post("/admin/products/prod_nope", json={"status": "published"})
    assert missing.status_code == 404
    assert missing.json() == {
        "type": "not_found",
        "message": "Product with id: prod_nope was not found",
    }


def test_body_without_json_content_type_changes_nothing(v2: httpx.Client) -> None:
    response = v2.post(
        "/admin/products/prod_000003",
        content=json.dumps({"status": "published"}),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    assert response.json()["product"]["status"] == "draft"


def test_batch_is_all_or_nothing(v2: httpx.Client) -> None:
    refused = v2.post(
        "/admin/products/batch",
        json={"update": [{"id": "prod_000001", "status": "published"}, {"id": "prod_gone"}]},
    )
    assert refused.status_code == 404
    assert v2.get("/admin/products/prod_000001").json()["product"]["status"] == "draft"
    done = v2.post(
        "/admin/products/batch?fields=id,status",
        json={"update": [{"id": "prod_000001", "status": "published"}]},
    )
    assert done.json()["updated"] == [{"id": "prod_000001", "status": "published"}]
    assert set(done.json()) == {"created", "updated", "deleted"}
    unknown = v2.post("/admin/products/batch", json={"upsert": []})
    assert unknown.status_code == 400


def test_v2_auth_basic_only(make_api: MakeApi) -> None:
    api = make_api(drafts=1, api_version="v2")
    url = api.url + "/admin/products"
    assert httpx.get(url, headers=BASIC).status_code == 200
    bearer = httpx.get(url, headers={"Authorization": f"Bearer {API_KEY}"})
    assert bearer.status_code == 401
    assert bearer.json() == {"message": "Unauthorized"}
    assert httpx.get(url, headers=V1).status_code == 401
    assert httpx.get(url).status_code == 401


def test_v1_auth_token_and_plain_text_401(make_api: MakeApi) -> None:
    api = make_api(drafts=1, api_version="v1")
    url = api.url + "/admin/products"
    assert httpx.get(url, headers=V1).status_code == 200
    refused = httpx.get(url, headers=BASIC)
    assert refused.status_code == 401
    assert refused.headers["Content-Type"].startswith("text/plain")
    assert refused.text == "Unauthorized"


def test_v1_has_no_batch_endpoint(v1: httpx.Client) -> None:
    # The v1 router reads "batch" as a product id.
    response = v1.post("/admin/products/batch", json={"status": "published"})
    assert response.status_code == 404
    assert response.json()["message"] == "Product with id: batch was not found"
    strict = v1.post("/admin/products/batch", json={"update": []})
    assert strict.status_code == 400
    assert strict.json()["message"] == "property update should not exist"


def test_state_endpoint_needs_no_auth(make_api: MakeApi) -> None:
    api = make_api(drafts=2, published=1, prefix="/store")
    state = httpx.get(api.root_url + "/_test/state").json()
    assert (state["draft"], state["published"]) == (2, 1)
    assert state["products"][0] == {"id": "prod_000001", "title": "Product 1", "status": "draft"}


def test_command_line_server(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.product_api",
            "--port",
            "0",
            "--drafts",
            "4",
            "--api-key",
            API_KEY,
            "--api-version",
            "v2",
            "--latency-ms",
            "1",
            "--port-file",
            str(port_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        wait_until(port_file.exists, timeout=5, what="the port file")
        port = int(port_file.read_text())
        assert line == f"product API listening on http://127.0.0.1:{port}"
        state = httpx.get(f"http://127.0.0.1:{port}/_test/state").json()
        assert state["draft"] == 4
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
