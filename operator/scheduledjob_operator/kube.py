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


def _error(exc: Exception) -> KubeError:
    if isinstance(exc, client.ApiException):
        message = str(exc.reason)
        reason = str(exc.reason)
        try:
            body = json.loads(exc.body or "{}")
            message = str(body.get("message") or message)
            reason = str(body.get("reason") or reason)
        except (TypeError, ValueError):
            pass
        return KubeError(int(exc.status or 0), reason, message)
    return KubeError(0, type(exc).__name__, str(exc))


def _json(response: Any) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(response.data))


def load_api_client() -> client.ApiClient:
    """In-cluster credentials when running as a pod, else the current kubeconfig."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.ApiClient()


class Kube:
    def __init__(self, api: client.ApiClient) -> None:
        self.batch = client.BatchV1Api(api)
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)

    # ---------------------------------------------------------------- CronJobs
    def get_cronjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return _json(
                self.batch.read_namespaced_cron_job(name, namespace, _preload_content=False)
            )
        except Exception as exc:
            error = _error(exc)
            if error.not_found:
                return None
            raise error from None

    def create_cronjob(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return _json(
                self.batch.create_namespaced_cron_job(namespace, body, _preload_content=False)
            )
        except Exception as exc:
            raise _error(exc) from None

    def replace_cronjob(self, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return _json(
                self.batch.replace_namespaced_cron_job(
                    name, namespace, body, _preload_content=False
                )
            )
        except Exception as exc:
            raise _error(exc) from None

    # ---------------------------------------------------------------- Jobs and pods
    def create_job(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Create a Job; None when one of that name exists already (idempotent run-now)."""
        try:
            return _json(self.batch.create_namespaced_job(namespace, body, _preload_content=False))
        except Exception as exc:
            error = _error(exc)
            if error.conflict:
                return None
            raise error from None

    def list_pods(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        try:
            listed = _json(
                self.core.list_namespaced_pod(
                    namespace, label_selector=label_selector, _preload_content=False
                )
            )
        except Exception as exc:
            raise _error(exc) from None
        return cast(list[dict[str, Any]], listed.get("items") or [])

    # ---------------------------------------------------------------- ScheduledJobs
    def get_scheduledjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return cast(
                dict[str, Any],
                self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name),
            )
        except Exception as exc:
            error = _error(exc)
            if error.not_found:
                return None
            raise error from None

    def patch_scheduledjob_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        try:
            self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, PLURAL, name, {"status": dict(status)}
            )
        except Exception as exc:
            error = _error(exc)
            if error.not_found:  # deleted meanwhile: nothing left to report on
                return
            raise error from None
