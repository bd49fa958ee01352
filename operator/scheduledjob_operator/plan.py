"""What to do with the CronJob a ScheduledJob owns: a pure decision, so it is unit-tested
without a cluster and the kopf layer only carries it out."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, cast

from scheduledjob_operator.render import desired_differs

OWNER_KIND = "ScheduledJob"


class Action(enum.Enum):
    CREATE = "create"
    REPLACE = "replace"
    NOTHING = "nothing"
    # A CronJob of that name exists and belongs to someone else: never take it over.
    FOREIGN = "foreign"
    # Owned by an earlier ScheduledJob of the same name (deleted, then re-created):
    # wait for the garbage collector instead of fighting it.
    PREVIOUS_OWNER = "previous-owner"


def controller_ref(obj: Mapping[str, Any], kind: str = OWNER_KIND) -> Mapping[str, Any] | None:
    """The owner reference of the `kind` object that controls `obj`, if any."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("kind") == kind and ref.get("controller"):
            return cast(Mapping[str, Any], ref)
    return None


def owner_uid(obj: Mapping[str, Any]) -> str | None:
    """The uid of the ScheduledJob that controls `obj`, if any."""
    ref = controller_ref(obj)
    return str(ref["uid"]) if ref and ref.get("uid") else None


def plan_cronjob(actual: Mapping[str, Any] | None, desired: Mapping[str, Any], uid: str) -> Action:
    if actual is None:
        return Action.CREATE
    current_owner = owner_uid(actual)
    if current_owner is None:
        return Action.FOREIGN
    if current_owner != uid:
        return Action.PREVIOUS_OWNER
    if desired_differs(actual, desired):
        return Action.REPLACE
    return Action.NOTHING


def replacement(actual: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The body for a PUT: desired spec and labels, keeping what the API server owns.

    resourceVersion makes the PUT fail (409) instead of overwriting a concurrent edit;
    status is the cronjob controller's and is left alone.
    """
    body = dict(desired)
    metadata = dict(desired.get("metadata", {}))
    metadata["resourceVersion"] = actual.get("metadata", {}).get("resourceVersion")
    body["metadata"] = metadata
    return body
