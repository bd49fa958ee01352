"""Small helpers for tests that create ScheduledJobs on a real API server."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tests.support.waiting import wait_for

GROUP, VERSION, PLURAL = "shopcron.io", "v1alpha1", "scheduledjobs"


def scheduledjob(name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("schedule", "0 0 * * *")
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ScheduledJob",
        "metadata": {"name": name},
        "spec": spec,
    }


class ScheduledJobs:
    """CRUD on ScheduledJobs in one namespace, returning plain dicts."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.custom = client.CustomObjectsApi(api)
        self.namespace = namespace

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, body
        )
        return result

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, name
            )
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return result

    def patch(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, name, patch
        )
        return result

    def delete(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name)

    def condition(self, name: str, type_: str = "Ready") -> dict[str, Any] | None:
        obj = self.get(name) or {}
        for cond in (obj.get("status") or {}).get("conditions") or []:
            if cond.get("type") == type_:
                return dict(cond)
        return None

    def wait_reconciled(self, name: str, *, ready: bool, timeout: float = 30) -> dict[str, Any]:
        """Wait until the current generation is reconciled with Ready=`ready`."""

        def probe() -> dict[str, Any] | None:
            obj = self.get(name)
            if obj is None:
                return None
            status = obj.get("status") or {}
            if status.get("observedGeneration") != obj["metadata"]["generation"]:
                return None
            cond = self.condition(name)
            want = "True" if ready else "False"
            return obj if cond is not None and cond.get("status") == want else None

        return wait_for(probe, timeout=timeout, what=f"ScheduledJob {name} Ready={ready}")
