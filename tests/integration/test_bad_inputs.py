"""Every bad-input case on the real API server with the real operator running:
refused at admission with the API's message, or accepted and reported Ready=False with
a Warning event and no CronJob. The valid cases all become Ready with a CronJob that
the API server accepted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.support.scheduledjobs import GROUP, PLURAL, VERSION, ScheduledJobs
from tests.support.waiting import wait_for

DATA = Path(__file__).resolve().parents[1] / "unit" / "operator" / "data"
EXPECT = "test.shopcron.io/expect"
MESSAGE = "test.shopcron.io/message-contains"
FIELD_VALIDATION = "test.shopcron.io/field-validation"

pytestmark = pytest.mark.usefixtures("operator")


def cases(filename: str) -> list[dict[str, Any]]:
    with (DATA / filename).open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def annotation(doc: dict[str, Any], key: str) -> str:
    return str(doc["metadata"]["annotations"].get(key, ""))


def create(api_client: client.ApiClient, namespace: str, doc: dict[str, Any]) -> None:
    custom = client.CustomObjectsApi(api_client)
    strict = annotation(doc, FIELD_VALIDATION) == "Strict"
    custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, doc, field_validation="Strict" if strict else None
    )


def cronjob_names(batch: client.BatchV1Api, namespace: str) -> set[str]:
    listed = json.loads(batch.list_namespaced_cron_job(namespace, _preload_content=False).data)
    return {item["metadata"]["name"] for item in listed["items"]}


def test_admission_cases_are_refused_with_the_api_message(
    api_client: client.ApiClient, namespace: str
) -> None:
    docs = [d for d in cases("invalid-scheduledjobs.yaml") if annotation(d, EXPECT) == "admission"]
    assert len(docs) >= 50
    wrong: list[str] = []
    for doc in docs:
        name = doc["metadata"]["name"]
        try:
            create(api_client, namespace, doc)
        except client.ApiException as exc:
            # 422 from schema and CEL validation, 400 from strict decoding.
            message = json.loads(exc.body)["message"]
            if exc.status not in (400, 422) or annotation(doc, MESSAGE) not in message:
                wrong.append(f"{name}: {exc.status} {message}")
        else:
            wrong.append(f"{name}: accepted, expected a refusal")
    assert not wrong, "\n".join(wrong)


def test_ready_false_cases_warn_and_make_no_cronjob(
    api_client: client.ApiClient,
    sjs: ScheduledJobs,
    batch: client.BatchV1Api,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    docs = [
        d for d in cases("invalid-scheduledjobs.yaml") if annotation(d, EXPECT) == "ready-false"
    ]
    assert len(docs) >= 10
    for doc in docs:
        create(api_client, namespace, doc)
    wrong: list[str] = []
    for doc in docs:
        name = doc["metadata"]["name"]
        sj = sjs.wait_reconciled(name, ready=False)
        cond = next(c for c in sj["status"]["conditions"] if c["type"] == "Ready")
        if cond["reason"] != "InvalidSpec" or annotation(doc, MESSAGE) not in cond["message"]:
            wrong.append(f"{name}: {cond['reason']}: {cond['message']}")
    assert not wrong, "\n".join(wrong)
    assert cronjob_names(batch, namespace) == set()

    def warned() -> set[str]:
        events = core.list_namespaced_event(namespace).items
        return {
            e.involved_object.name
            for e in events
            if e.type == "Warning" and e.reason == "InvalidSpec"
        }

    expected = {d["metadata"]["name"] for d in docs}
    wait_for(lambda: expected <= warned(), timeout=30, what="a Warning event per invalid case")


def test_valid_cases_become_ready_with_an_accepted_cronjob(
    api_client: client.ApiClient, sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    docs = cases("valid-scheduledjobs.yaml")
    for doc in docs:
        create(api_client, namespace, doc)
    expected: set[str] = set()
    for doc in docs:
        sj = sjs.wait_reconciled(doc["metadata"]["name"], ready=True)
        expected.add(sj["status"]["cronJobName"])
        want = annotation(doc, "test.shopcron.io/cronjob-name")
        if want:
            assert sj["status"]["cronJobName"] == want
    wait_for(
        lambda: cronjob_names(batch, namespace) == expected,
        timeout=30,
        what="one CronJob per valid ScheduledJob",
    )
