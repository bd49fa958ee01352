"""Smoke tests: the local control plane behaves like a real cluster where shopcron needs it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.support.waiting import wait_for

GROUP = "smoke.shopcron.io"

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {"size": {"type": "integer", "minimum": 1}},
                            }
                        },
                    }
                },
            }
        ],
    },
}


def pod_spec(command: list[str]) -> client.V1PodSpec:
    return client.V1PodSpec(
        restart_policy="Never",
        containers=[client.V1Container(name="main", image="busybox:1", command=command)],
    )


@pytest.fixture
def widget_crd(api_client: client.ApiClient) -> Iterator[None]:
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(WIDGET_CRD)

    def established() -> bool:
        crd = ext.read_custom_resource_definition(f"widgets.{GROUP}")
        conditions = crd.status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    wait_for(established, timeout=30, what="the Widget CRD to be established")
    yield
    ext.delete_custom_resource_definition(f"widgets.{GROUP}")


@pytest.mark.usefixtures("widget_crd")
def test_crd_schema_rejects_invalid_and_stores_valid(
    api_client: client.ApiClient, namespace: str
) -> None:
    custom = client.CustomObjectsApi(api_client)

    def widget(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": f"{GROUP}/v1",
            "kind": "Widget",
            "metadata": {"name": name},
            "spec": spec,
        }

    def create(body: dict[str, Any]) -> Any:
        # Discovery of a new CRD takes a moment: retry 404s only.
        def attempt() -> Any:
            try:
                return custom.create_namespaced_custom_object(
                    GROUP, "v1", namespace, "widgets", body
                )
            except client.ApiException as exc:
                if exc.status == 404:
                    return None
                raise

        return wait_for(attempt, timeout=30, what="the widgets resource to be served")

    with pytest.raises(client.ApiException) as rejected:
        create(widget("too-small", {"size": 0}))
    assert rejected.value.status == 422
    assert "spec.size" in rejected.value.body
    assert "should be greater than or equal to 1" in rejected.value.body

    create(widget("fine", {"size": 3}))
    stored = custom.get_namespaced_custom_object(GROUP, "v1", namespace, "widgets", "fine")
    assert stored["spec"] == {"size": 3}


def test_job_controller_creates_a_pod(
    batch: client.BatchV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="smoke"),
        spec=client.V1JobSpec(
            backoff_limit=0,
            template=client.V1PodTemplateSpec(spec=pod_spec(["true"])),
        ),
    )
    batch.create_namespaced_job(namespace, job)
    pods = wait_for(
        lambda: core.list_namespaced_pod(namespace, label_selector="job-name=smoke").items,
        timeout=30,
        what="the job controller to create a pod",
    )
    assert pods[0].metadata.owner_references[0].kind == "Job"
    assert pods[0].status.phase == "Pending"  # there is no kubelet: nothing runs it


@pytest.mark.slow
def test_cronjob_controller_creates_a_job(batch: client.BatchV1Api, namespace: str) -> None:
    cronjob = client.V1CronJob(
        metadata=client.V1ObjectMeta(name="every-minute"),
        spec=client.V1CronJobSpec(
            schedule="* * * * *",
            time_zone="Etc/UTC",
            job_template=client.V1JobTemplateSpec(
                spec=client.V1JobSpec(template=client.V1PodTemplateSpec(spec=pod_spec(["true"])))
            ),
        ),
    )
    batch.create_namespaced_cron_job(namespace, cronjob)
    jobs = wait_for(
        lambda: batch.list_namespaced_job(namespace).items,
        timeout=75,
        interval=1,
        what="the cronjob controller to create a Job",
    )
    assert jobs[0].metadata.owner_references[0].name == "every-minute"


def test_garbage_collector_deletes_owned_objects(core: client.CoreV1Api, namespace: str) -> None:
    owner = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name="owned",
                owner_references=[
                    client.V1OwnerReference(
                        api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid
                    )
                ],
            )
        ),
    )
    core.delete_namespaced_config_map("owner", namespace)

    def owned_gone() -> bool:
        names = [cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items]
        return "owned" not in names

    wait_for(owned_gone, timeout=60, what="the garbage collector to delete the owned ConfigMap")


def test_namespace_deletion_completes(core: client.CoreV1Api) -> None:
    name = f"t-del-{secrets.token_hex(3)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(
        name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="content"))
    )
    core.delete_namespace(name)

    def gone() -> bool:
        try:
            core.read_namespace(name)
        except client.ApiException as exc:
            return bool(exc.status == 404)
        return False

    wait_for(gone, timeout=60, what=f"namespace {name} to be deleted")
