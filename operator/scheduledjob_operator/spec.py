"""A ScheduledJob's spec, read, defaulted and validated into one immutable value.

The CRD schema refuses most mistakes at admission, but the operator also meets objects
stored before a schema change (or written with schema validation bypassed), so
`parse_spec` trusts nothing: any JSON shape gives either a `ScheduledJobSpec` or an
`InvalidSpec` listing every problem at once, each naming the field, what is wrong and
what to write instead. Anything that would make the API server or the cronjob
controller refuse the rendered CronJob is caught here, so the user reads it on the
ScheduledJob instead of in the operator's log.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, overload
from urllib.parse import urlsplit

from scheduledjob_operator import names, quantity
from scheduledjob_operator.schedule import DEFAULT_TIME_ZONE, validate_schedule, validate_time_zone

__all__ = [
    "API_VERSIONS",
    "BACKEND_FIELDS",
    "CONCURRENCY_POLICIES",
    "DATA_MAX_BYTES",
    "DEFAULT_RESOURCES",
    "IMAGE_PULL_POLICIES",
    "KNOWN_HANDLERS",
    "RESERVED_ENV",
    "SPEC_FIELDS",
    "TEMPLATE_FIELDS",
    "Defaults",
    "FieldError",
    "InvalidSpec",
    "ScheduledJobSpec",
    "parse_spec",
]

#: Must match jobs_runtime.handlers.HANDLER_NAMES (a unit test compares them) and the
#: enum of spec.handler in the CRD.
KNOWN_HANDLERS: tuple[str, ...] = ("publish-draft-products",)
API_VERSIONS = ("v2", "v1")
CONCURRENCY_POLICIES = ("Forbid", "Allow", "Replace")
IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TOLERATION_OPERATORS = ("Equal", "Exists")
TOLERATION_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
#: spec.data travels as one environment variable; keep it far below the object size limit.
DATA_MAX_BYTES = 32 * 1024
INT32_MAX = 2**31 - 1

#: The variables the operator renders from spec fields (DESIGN §4); template.env may
#: add other SHOPCRON_* tuning variables but not these.
RESERVED_ENV: Mapping[str, str] = {
    "SHOPCRON_JOB_NAME": "spec.jobName",
    "SHOPCRON_HANDLER": "spec.handler",
    "SHOPCRON_DATA": "spec.data",
    "SHOPCRON_API_URL": "spec.backend.url",
    "SHOPCRON_API_VERSION": "spec.backend.apiVersion",
    "SHOPCRON_API_KEY": "spec.backend.credentialsSecretRef",
    "SHOPCRON_DRY_RUN": "spec.dryRun",
}

DEFAULT_RESOURCES: Mapping[str, Mapping[str, str]] = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}


def _default_resources() -> dict[str, dict[str, str]]:
    return {kind: dict(values) for kind, values in DEFAULT_RESOURCES.items()}


@dataclass(frozen=True)
class Defaults:
    """The operator's defaults for what a spec leaves out (from its settings)."""

    runtime_image: str
    api_url: str
    credentials_secret_name: str
    credentials_secret_key: str
    image_pull_policy: str = "IfNotPresent"
    preview_count: int = 5
    time_zone: str = DEFAULT_TIME_ZONE
    handler: str = "publish-draft-products"
    api_version: str = "v2"
    concurrency_policy: str = "Forbid"
    # A run more than 5 minutes late (controller down, or the CronJob just unsuspended)
    # is skipped rather than started at a surprising time.
    starting_deadline_seconds: int | None = 300
    successful_jobs_history_limit: int = 3
    failed_jobs_history_limit: int = 3
    backoff_limit: int = 2
    active_deadline_seconds: int | None = 3600
    ttl_seconds_after_finished: int | None = None
    resources: Mapping[str, Mapping[str, str]] = field(default_factory=_default_resources)


@dataclass(frozen=True)
class FieldError:
    field: str  # e.g. "spec.schedule"
    message: str  # names the problem and what to write instead

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidSpec(ValueError):
    """The spec cannot be turned into a CronJob; `errors` lists every problem."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class ScheduledJobSpec:
    """Every spec field resolved: defaults applied, values checked."""

    schedule: str
    time_zone: str
    handler: str
    job_name: str
    data: dict[str, Any]
    api_url: str
    api_version: str
    credentials_secret_name: str
    credentials_secret_key: str
    suspend: bool
    concurrency_policy: str
    starting_deadline_seconds: int | None
    successful_jobs_history_limit: int
    failed_jobs_history_limit: int
    backoff_limit: int
    active_deadline_seconds: int | None
    ttl_seconds_after_finished: int | None
    dry_run: bool
    image: str
    image_pull_policy: str
    resources: dict[str, dict[str, Any]]
    env: tuple[dict[str, Any], ...] = ()
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    service_account_name: str | None = None
    image_pull_secrets: tuple[str, ...] = ()

    @property
    def data_json(self) -> str:
        """SHOPCRON_DATA: compact, keys sorted, so equal data renders equal CronJobs."""
        return json.dumps(self.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: The fields each object may hold; the CRD declares exactly these (test_crd.py).
SPEC_FIELDS = (
    "schedule",
    "timeZone",
    "handler",
    "jobName",
    "data",
    "backend",
    "suspend",
    "concurrencyPolicy",
    "startingDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "backoffLimit",
    "activeDeadlineSeconds",
    "ttlSecondsAfterFinished",
    "dryRun",
    "template",
)
BACKEND_FIELDS = ("url", "apiVersion", "credentialsSecretRef")
TEMPLATE_FIELDS = (
    "image",
    "imagePullPolicy",
    "resources",
    "env",
    "nodeSelector",
    "tolerations",
    "serviceAccountName",
    "imagePullSecrets",
)
_JOB_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_HUGEPAGES = re.compile(r"hugepages-.+")
_VALUE_FROM = {
    "secretKeyRef": ("name", "key"),
    "configMapKeyRef": ("name", "key"),
    "fieldRef": ("fieldPath",),
    "resourceFieldRef": ("resource",),
}


def _kind(value: object) -> str:
    """The JSON type of `value`, as a user reading the YAML would call it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


class _Reader:
    """Collects every problem instead of stopping at the first, so a user fixes a
    broken spec in one edit; each getter returns a usable fallback after an error."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def mapping(self, value: object, path: str, example: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"must be an object such as {example}, not {_kind(value)}")
            return {}
        return value

    def items(self, value: object, path: str, example: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            self.fail(path, f"must be a list such as {example}, not {_kind(value)}")
            return []
        return list(value)

    def known_keys(self, obj: Mapping[str, Any], allowed: Collection[str], path: str) -> None:
        for key in obj:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f"did you mean {close[0]}?" if close else f"known fields: {', '.join(allowed)}"
            self.fail(f"{path}.{key}", f"is not a field of {path}: {hint}")

    def string(
        self, obj: Mapping[str, Any], key: str, path: str, default: str, example: str
    ) -> str:
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self.fail(f"{path}.{key}", f"must be a string such as {example}, not {_kind(value)}")
            return default
        return value

    def boolean(self, obj: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(f"{path}.{key}", f"must be true or false (unquoted), not {_kind(value)}")
            return default
        return value

    def choice(
        self, obj: Mapping[str, Any], key: str, path: str, default: str, allowed: Collection[str]
    ) -> str:
        value = obj.get(key)
        if value is None:
            return default
        if value not in allowed:
            shown = f'"{value}"' if isinstance(value, str) else _kind(value)
            self.fail(f"{path}.{key}", f"{shown} is not supported: use one of {', '.join(allowed)}")
            return default
        return str(value)

    @overload
    def integer(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        default: int,
        minimum: int,
        maximum: int = ...,
    ) -> int: ...

    @overload
    def integer(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        default: int | None,
        minimum: int,
        maximum: int = ...,
    ) -> int | None: ...

    def integer(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        default: int | None,
        minimum: int,
        maximum: int = INT32_MAX,
    ) -> int | None:
        value = obj.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(
                f"{path}.{key}",
                f"must be a whole number from {minimum} to {maximum} (unquoted),"
                f" not {_kind(value)}",
            )
            return default
        if not minimum <= value <= maximum:
            self.fail(f"{path}.{key}", f"{value} is out of range: use {minimum} to {maximum}")
            return default
        return value


def parse_spec(name: str, spec: Mapping[str, Any], defaults: Defaults) -> ScheduledJobSpec:
    """Resolve a ScheduledJob's spec, or raise InvalidSpec listing every field error."""
    r = _Reader()
    s = r.mapping(spec, "spec", '{schedule: "0 3 * * *"}')
    r.known_keys(s, SPEC_FIELDS, "spec")

    schedule = s.get("schedule")
    if schedule is None:
        r.fail("spec.schedule", 'is required: write five cron fields such as "0 3 * * *" or @daily')
        schedule = ""
    else:
        problem = validate_schedule(schedule)
        if problem is not None:
            r.fail("spec.schedule", problem)

    time_zone = r.string(s, "timeZone", "spec", defaults.time_zone, "Europe/Berlin")
    if "timeZone" in s and isinstance(s["timeZone"], str):
        problem = validate_time_zone(time_zone)
        if problem is not None:
            r.fail("spec.timeZone", problem)

    handler = r.string(s, "handler", "spec", defaults.handler, KNOWN_HANDLERS[0])
    if handler not in KNOWN_HANDLERS:
        r.fail(
            "spec.handler", f'unknown handler "{handler}": use one of {", ".join(KNOWN_HANDLERS)}'
        )

    job_name = r.string(s, "jobName", "spec", name, '"publish-products"')
    if len(job_name) > 253 or not _JOB_NAME.fullmatch(job_name):
        r.fail(
            "spec.jobName",
            'must be 1 to 253 letters, digits, ".", "_" or "-", starting and ending with a letter'
            ' or digit, e.g. "publish-products"',
        )

    data = _data(r, s.get("data"))
    backend = _Backend.read(r, s.get("backend"), defaults)
    template = _Template.read(r, s.get("template"), defaults)

    result = ScheduledJobSpec(
        schedule=schedule if isinstance(schedule, str) else "",
        time_zone=time_zone,
        handler=handler,
        job_name=job_name,
        data=data,
        api_url=backend.url,
        api_version=backend.api_version,
        credentials_secret_name=backend.secret_name,
        credentials_secret_key=backend.secret_key,
        suspend=r.boolean(s, "suspend", "spec", False),
        concurrency_policy=r.choice(
            s, "concurrencyPolicy", "spec", defaults.concurrency_policy, CONCURRENCY_POLICIES
        ),
        starting_deadline_seconds=r.integer(
            s, "startingDeadlineSeconds", "spec", defaults.starting_deadline_seconds, 0, 2**63 - 1
        ),
        successful_jobs_history_limit=r.integer(
            s, "successfulJobsHistoryLimit", "spec", defaults.successful_jobs_history_limit, 0
        ),
        failed_jobs_history_limit=r.integer(
            s, "failedJobsHistoryLimit", "spec", defaults.failed_jobs_history_limit, 0
        ),
        backoff_limit=r.integer(s, "backoffLimit", "spec", defaults.backoff_limit, 0),
        active_deadline_seconds=r.integer(
            s, "activeDeadlineSeconds", "spec", defaults.active_deadline_seconds, 1, 2**63 - 1
        ),
        ttl_seconds_after_finished=r.integer(
            s, "ttlSecondsAfterFinished", "spec", defaults.ttl_seconds_after_finished, 0
        ),
        dry_run=r.boolean(s, "dryRun", "spec", False),
        image=template.image,
        image_pull_policy=template.image_pull_policy,
        resources=template.resources,
        env=tuple(template.env),
        node_selector=template.node_selector,
        tolerations=tuple(template.tolerations),
        service_account_name=template.service_account_name,
        image_pull_secrets=tuple(template.image_pull_secrets),
    )
    if r.errors:
        raise InvalidSpec(sorted(r.errors, key=_spec_order))
    return result


def _spec_order(error: FieldError) -> int:
    """Report errors in the order the fields appear in the CRD, not in the order read."""
    top = re.split(r"[.\[]", error.field.removeprefix("spec."))[0]
    return SPEC_FIELDS.index(top) if top in SPEC_FIELDS else len(SPEC_FIELDS)


def _data(r: _Reader, value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        r.fail(
            "spec.data",
            f"must be an object such as {{batchSize: 50}}, not {_kind(value)}; to pass a list,"
            " put it under a key, e.g. {ids: [prod_1, prod_2]}",
        )
        return {}
    try:
        encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        copy: dict[str, Any] = json.loads(encoded)
    except (TypeError, ValueError) as exc:
        r.fail("spec.data", f"must be plain JSON: {exc}")
        return {}
    size = len(encoded.encode())
    if size > DATA_MAX_BYTES:
        r.fail(
            "spec.data",
            f"is {size} bytes as JSON, more than the {DATA_MAX_BYTES} that fit: keep it small"
            " (it travels in an environment variable) and pass large inputs by reference",
        )
        return {}
    return copy


@dataclass(frozen=True)
class _Backend:
    url: str
    api_version: str
    secret_name: str
    secret_key: str

    @classmethod
    def read(cls, r: _Reader, value: object, defaults: Defaults) -> _Backend:
        b = r.mapping(value, "spec.backend", "{url: http://medusa.shop.svc:9000}")
        r.known_keys(b, BACKEND_FIELDS, "spec.backend")
        url = r.string(b, "url", "spec.backend", defaults.api_url, "http://medusa.shop.svc:9000")
        if "url" in b and isinstance(b["url"], str):
            problem = _url_problem(url)
            if problem is not None:
                r.fail("spec.backend.url", problem)
        api_version = r.choice(b, "apiVersion", "spec.backend", defaults.api_version, API_VERSIONS)
        name, key = defaults.credentials_secret_name, defaults.credentials_secret_key
        path = "spec.backend.credentialsSecretRef"
        if b.get("credentialsSecretRef") is not None:
            ref = r.mapping(b["credentialsSecretRef"], path, "{name: medusa-api, key: apiKey}")
            r.known_keys(ref, ("name", "key"), path)
            for required in ("name", "key"):
                if ref.get(required) is None and isinstance(b["credentialsSecretRef"], Mapping):
                    r.fail(f"{path}.{required}", "is required: name the Secret and the key in it")
            name = r.string(ref, "name", path, name, "medusa-api")
            key = r.string(ref, "key", path, key, "apiKey")
            if "name" in ref and isinstance(ref["name"], str):
                _check(r, f"{path}.name", names.dns_subdomain_problem(name))
            if (
                "key" in ref
                and isinstance(ref["key"], str)
                and not (len(key) <= 253 and _SECRET_KEY.fullmatch(key))
            ):
                r.fail(
                    f"{path}.key",
                    f'"{key}" is not a Secret key: use letters, digits, "-", "_", "."',
                )
        return cls(url, api_version, name, key)


def _url_problem(url: str) -> str | None:
    example = "http://medusa.shop.svc:9000"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a non-numeric port
    except ValueError:
        return f'"{url}" is not a valid URL: write e.g. {example}'
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return f'"{url}" is not an http:// or https:// URL: write e.g. {example}'
    if parts.username is not None or parts.password is not None:
        return (
            "must not carry a user or password: put the credential in the Secret named by"
            " spec.backend.credentialsSecretRef"
        )
    if parts.query or parts.fragment:
        return (
            "must not carry a query or fragment: use the base URL (a path prefix is fine),"
            f" e.g. {example}"
        )
    return None


def _check(r: _Reader, path: str, problem: str | None) -> None:
    if problem is not None:
        r.fail(path, problem)


@dataclass(frozen=True)
class _Template:
    image: str
    image_pull_policy: str
    resources: dict[str, dict[str, Any]]
    env: list[dict[str, Any]]
    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]
    service_account_name: str | None
    image_pull_secrets: list[str]

    @classmethod
    def read(cls, r: _Reader, value: object, defaults: Defaults) -> _Template:
        path = "spec.template"
        t = r.mapping(value, path, "{image: registry.example.com/jobs-runtime:1.0}")
        r.known_keys(t, TEMPLATE_FIELDS, path)
        image = r.string(t, "image", path, defaults.runtime_image, "shopcron/jobs-runtime:1.0")
        if (
            "image" in t
            and isinstance(t["image"], str)
            and (not image or len(image) > 1024 or any(c.isspace() for c in image))
        ):
            r.fail(
                f"{path}.image",
                "must be a container image reference without spaces, e.g."
                " registry.example.com/shopcron/jobs-runtime:1.0",
            )
        pull = r.choice(t, "imagePullPolicy", path, defaults.image_pull_policy, IMAGE_PULL_POLICIES)
        account = r.string(t, "serviceAccountName", path, "", "shopcron-jobs") or None
        if "serviceAccountName" in t and account is not None:
            _check(r, f"{path}.serviceAccountName", names.dns_subdomain_problem(account))
        elif "serviceAccountName" in t and t["serviceAccountName"] == "":
            r.fail(f"{path}.serviceAccountName", "is empty: name a ServiceAccount or leave it out")
        return cls(
            image=image,
            image_pull_policy=pull,
            resources=_resources(r, t.get("resources"), defaults),
            env=_env(r, t.get("env")),
            node_selector=_node_selector(r, t.get("nodeSelector")),
            tolerations=_tolerations(r, t.get("tolerations")),
            service_account_name=account,
            image_pull_secrets=_pull_secrets(r, t.get("imagePullSecrets")),
        )


def _resources(r: _Reader, value: object, defaults: Defaults) -> dict[str, dict[str, Any]]:
    """template.resources replaces the defaults as a whole (so a lower limit never
    conflicts with a default request the user did not write)."""
    path = "spec.template.resources"
    if value is None:
        return {kind: dict(values) for kind, values in defaults.resources.items()}
    res = r.mapping(value, path, "{requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}")
    r.known_keys(res, ("requests", "limits"), path)
    parsed: dict[str, dict[str, Any]] = {}
    amounts: dict[str, dict[str, Any]] = {}
    for kind in ("requests", "limits"):
        if res.get(kind) is None:
            continue
        table = r.mapping(res[kind], f"{path}.{kind}", "{cpu: 100m, memory: 128Mi}")
        parsed[kind], amounts[kind] = {}, {}
        for resource, amount in table.items():
            where = f"{path}.{kind}.{resource}"
            problem = _resource_name_problem(str(resource))
            if problem is not None:
                r.fail(where, problem)
                continue
            number = quantity.parse_quantity(amount)
            if number is None or number < 0:
                r.fail(
                    where,
                    f'"{amount}" is not a resource quantity: write e.g. "250m" (CPU) or "128Mi"'
                    " (memory), zero or more",
                )
                continue
            parsed[kind][str(resource)] = amount
            amounts[kind][str(resource)] = number
    for resource, request in amounts.get("requests", {}).items():
        limit = amounts.get("limits", {}).get(resource)
        if limit is not None and request > limit:
            r.fail(
                f"{path}.requests.{resource}",
                f"must be less than or equal to the {resource} limit: raise the limit or lower"
                " the request",
            )
        if "/" in resource and limit != request:
            r.fail(
                f"{path}.limits.{resource}",
                f"{resource} is an extended resource: set the same value in limits as in requests",
            )
    return {kind: values for kind, values in parsed.items() if values}


def _resource_name_problem(resource: str) -> str | None:
    if resource in _STANDARD_RESOURCES or _HUGEPAGES.fullmatch(resource):
        return None
    if "/" in resource and names.label_key_problem(resource) is None:
        return None
    return (
        f'"{resource}" is not a resource name: use cpu, memory, ephemeral-storage or an'
        " extended resource such as example.com/gpu"
    )


def _env(r: _Reader, value: object) -> list[dict[str, Any]]:
    path = "spec.template.env"
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(
        r.items(value, path, "[{name: SHOPCRON_BATCH_SIZE, value: '100'}]")
    ):
        where = f"{path}[{index}]"
        var = r.mapping(item, where, "{name: SHOPCRON_BATCH_SIZE, value: '100'}")
        if not isinstance(item, Mapping):
            continue
        r.known_keys(var, ("name", "value", "valueFrom"), where)
        env_name = var.get("name")
        if not isinstance(env_name, str) or not _ENV_NAME.fullmatch(env_name):
            r.fail(
                f"{where}.name",
                'must be a variable name of letters, digits, "_", "-" or "." not starting with a'
                " digit, e.g. SHOPCRON_BATCH_SIZE",
            )
            continue
        if env_name in RESERVED_ENV:
            r.fail(
                f"{where}.name",
                f"{env_name} is set by the operator from {RESERVED_ENV[env_name]}:"
                " set that field instead",
            )
            continue
        if env_name in seen:
            r.fail(f"{where}.name", f"{env_name} is listed twice: keep one entry")
            continue
        seen.add(env_name)
        entry: dict[str, Any] = {"name": env_name}
        if "value" in var and var.get("valueFrom") is not None:
            r.fail(where, "sets both value and valueFrom: keep one")
            continue
        if var.get("valueFrom") is not None:
            source = _value_from(r, var["valueFrom"], f"{where}.valueFrom")
            if source is None:
                continue
            entry["valueFrom"] = source
        else:
            text = var.get("value", "")
            if text is None:
                text = ""
            if not isinstance(text, str):
                r.fail(
                    f"{where}.value",
                    f'must be a string (quote numbers and booleans, e.g. "100"), not {_kind(text)}',
                )
                continue
            if text:  # the API server drops an empty value; rendering it would look like drift
                entry["value"] = text
        result.append(entry)
    return result


def _value_from(r: _Reader, value: object, where: str) -> dict[str, Any] | None:
    source = r.mapping(value, where, "{secretKeyRef: {name: my-secret, key: token}}")
    kinds = [key for key in source if key in _VALUE_FROM]
    unknown = [key for key in source if key not in _VALUE_FROM]
    if unknown or len(kinds) != 1:
        r.fail(where, f"must hold exactly one of {', '.join(_VALUE_FROM)}")
        return None
    kind = kinds[0]
    ref = source[kind]
    if not isinstance(ref, Mapping) or not all(
        isinstance(ref.get(key), str) and ref.get(key) for key in _VALUE_FROM[kind]
    ):
        r.fail(f"{where}.{kind}", f"must be an object with {' and '.join(_VALUE_FROM[kind])}")
        return None
    return {kind: json.loads(json.dumps(ref, sort_keys=True))}


def _node_selector(r: _Reader, value: object) -> dict[str, str]:
    path = "spec.template.nodeSelector"
    selector = r.mapping(value, path, "{kubernetes.io/arch: amd64}")
    result: dict[str, str] = {}
    for key, label in selector.items():
        problem = names.label_key_problem(str(key))
        if problem is not None:
            r.fail(f"{path}.{key}", problem)
            continue
        if not isinstance(label, str):
            r.fail(f"{path}.{key}", f"must be a string (quote it), not {_kind(label)}")
            continue
        _check(r, f"{path}.{key}", names.label_value_problem(label))
        result[str(key)] = label
    return result


def _tolerations(r: _Reader, value: object) -> list[dict[str, Any]]:
    path = "spec.template.tolerations"
    example = "{key: dedicated, operator: Equal, value: jobs, effect: NoSchedule}"
    result: list[dict[str, Any]] = []
    for index, item in enumerate(r.items(value, path, f"[{example}]")):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            r.mapping(item, where, example)
            continue
        r.known_keys(item, ("key", "operator", "value", "effect", "tolerationSeconds"), where)
        before = len(r.errors)
        key = r.string(item, "key", where, "", "dedicated")
        operator = r.choice(item, "operator", where, "Equal", TOLERATION_OPERATORS)
        taint_value = r.string(item, "value", where, "", "jobs")
        # An empty effect is Kubernetes' "every effect", same as leaving it out.
        effect = (
            ""
            if item.get("effect") == ""
            else r.choice(item, "effect", where, "", TOLERATION_EFFECTS)
        )
        seconds = r.integer(item, "tolerationSeconds", where, None, -(2**63), 2**63 - 1)
        if key:
            _check(r, f"{where}.key", names.label_key_problem(key))
        elif operator != "Exists":
            r.fail(
                f"{where}.operator", "must be Exists when key is empty (to tolerate every taint)"
            )
        if operator == "Exists" and taint_value:
            r.fail(f"{where}.value", "must be empty when operator is Exists")
        if taint_value:
            _check(r, f"{where}.value", names.label_value_problem(taint_value))
        if seconds is not None and effect != "NoExecute":
            r.fail(
                f"{where}.tolerationSeconds",
                "only applies with effect NoExecute: set that effect or remove it",
            )
        if len(r.errors) == before:
            toleration = {k: item[k] for k in sorted(item) if item[k] not in (None, "")}
            result.append(toleration)
    return result


def _pull_secrets(r: _Reader, value: object) -> list[str]:
    path = "spec.template.imagePullSecrets"
    result: list[str] = []
    for index, item in enumerate(r.items(value, path, "[{name: registry-credentials}]")):
        where = f"{path}[{index}]"
        ref = r.mapping(item, where, "{name: registry-credentials}")
        r.known_keys(ref, ("name",), where)
        secret = ref.get("name")
        if not isinstance(secret, str) or not secret:
            if isinstance(item, Mapping):
                r.fail(
                    f"{where}.name",
                    "is required: name a Secret of type kubernetes.io/dockerconfigjson",
                )
            continue
        problem = names.dns_subdomain_problem(secret)
        if problem is not None:
            r.fail(f"{where}.name", problem)
            continue
        result.append(secret)
    return result
