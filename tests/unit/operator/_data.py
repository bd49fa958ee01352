"""Loaders for the case files in data/ and the CRD, shared by the operator unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from scheduledjob_operator.spec import Defaults

DATA = Path(__file__).parent / "data"
CRD_PATH = Path(__file__).parents[3] / "crds" / "scheduledjobs.shopcron.io.yaml"
ANNOTATION = "test.shopcron.io/"

# What the operator would run with; cronjob-every-field-from-apiserver.yaml was
# rendered with exactly these.
DEFAULTS = Defaults(
    runtime_image="shopcron/jobs-runtime:dev",
    api_url="http://medusa.shop.svc:9000",
    credentials_secret_name="shopcron-backend",
    credentials_secret_key="apiKey",
)


@dataclass(frozen=True)
class Case:
    """One ScheduledJob document of a case file, with its test annotations."""

    name: str
    spec: Any
    expect: str
    message: str
    field: str
    cronjob_name: str | None

    def __str__(self) -> str:  # pytest ids
        return self.name


def cases(filename: str) -> list[Case]:
    result = []
    with (DATA / filename).open(encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            notes = doc["metadata"].get("annotations", {})
            result.append(
                Case(
                    name=doc["metadata"]["name"],
                    spec=doc.get("spec"),
                    expect=notes[ANNOTATION + "expect"],
                    message=notes.get(ANNOTATION + "message-contains", ""),
                    field=notes.get(ANNOTATION + "field", ""),
                    cronjob_name=notes.get(ANNOTATION + "cronjob-name"),
                )
            )
    return result


def tsv(filename: str) -> Iterator[list[str]]:
    """Rows of a tab-separated case file, comments skipped, cells kept verbatim."""
    with (DATA / filename).open(encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#") and line.strip("\n"):
                yield line.rstrip("\n").split("\t")


def load_yaml(filename: str) -> Any:
    with (DATA / filename).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def crd() -> Any:
    with CRD_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def crd_schema() -> Any:
    return crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
