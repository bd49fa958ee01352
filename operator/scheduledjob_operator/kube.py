"""The only module that talks to the Kubernetes API (through the official client).

Everything comes back as plain dicts (the JSON the API server sent), so the pure
modules never see client model classes. Failures become `KubeError` with the API's
own status and message; the kopf layer decides whether to retry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from kubernetes import client, config

GROUP = "shopcron.io"
VERSION = "v1alpha1"
PLURAL = "scheduledjobs"


class KubeError(Exception):
    """The API server refused or could not be reached; `status` is 0 when unreachable."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409


def _error_from_response(status: int, data: bytes) -> KubeError:
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    reason = str(body.get("reason") or "")
    message = str(body.get("message") or data[:200].decode(errors="replace"))
    return KubeError(status, reason, message)


def load_api_client() -> client.ApiClient:
    """In-cluster credentials when running as a pod, else the current kubeconfig."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.ApiClient()


class Kube:
    """Plain REST calls through the client's transport (authentication, TLS, proxies).

    The client's generated API classes are not used: importing them costs about
    25 MB of memory and a second of start-up, and their models are not needed.
    """

    def __init__(self, api: client.ApiClient, timeout: float = 60.0) -> None:
        self.api = api
        self.timeout = timeout

    def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            _, url, headers, payload, _ = self.api.param_serialize(
                method=method,
                resource_path=path,
                query_params=list((query or {}).items()) or None,
                header_params=headers,
                body=dict(body) if body is not None else None,
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(
                method, url, header_params=headers, body=payload, _request_timeout=self.timeout
            )
            data = response.read()
        except Exception as exc:  # connection refused, TLS, timeouts: the API is unreachable
            raise KubeError(0, type(exc).__name__, str(exc)) from None
        if not 200 <= response.status < 300:
            raise _error_from_response(response.status, data)
        return cast(dict[str, Any], json.loads(data))

    def _get(self, path: str) -> dict[str, Any] | None:
        try:
            return self._request("GET", path)
        except KubeError as exc:
            if exc.not_found:
                return None
            raise

    # ---------------------------------------------------------------- CronJobs
    def get_cronjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}")

    def create_cronjob(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._request("POST", f"/apis/batch/v1/namespaces/{namespace}/cronjobs", body)

    def replace_cronjob(self, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        path = f"/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}"
        return self._request("PUT", path, body)

    # ---------------------------------------------------------------- Jobs and pods
    def create_job(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Create a Job; None when one of that name exists already (idempotent run-now)."""
        try:
            return self._request("POST", f"/apis/batch/v1/namespaces/{namespace}/jobs", body)
        except KubeError as exc:
            if exc.conflict:
                return None
            raise

    def list_pods(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        listed = self._request(
            "GET", f"/api/v1/namespaces/{namespace}/pods", query={"labelSelector": label_selector}
        )
        return cast(list[dict[str, Any]], listed.get("items") or [])

    # ---------------------------------------------------------------- ScheduledJobs
    def _scheduledjob_path(self, namespace: str, name: str) -> str:
        return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}"

    def get_scheduledjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get(self._scheduledjob_path(namespace, name))

    def patch_scheduledjob_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        path = self._scheduledjob_path(namespace, name) + "/status"
        try:
            self._request("PATCH", path, {"status": dict(status)}, "application/merge-patch+json")
        except KubeError as exc:
            if exc.not_found:  # deleted meanwhile: nothing left to report on
                return
            raise
