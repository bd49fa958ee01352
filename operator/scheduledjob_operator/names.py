"""Kubernetes name and label rules, and the names shopcron derives from a ScheduledJob.

The API server would refuse a CronJob whose name, labels or references break these
rules; checking them here turns that late, opaque failure into a Ready=False message
on the ScheduledJob.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "CRONJOB_NAME_MAX",
    "LABEL_VALUE_MAX",
    "cronjob_name",
    "dns_subdomain_problem",
    "label_key_problem",
    "label_value",
    "label_value_problem",
]

# The cronjob controller appends "-" + 10 digits to Job names, which must stay <= 63.
CRONJOB_NAME_MAX = 52
LABEL_VALUE_MAX = 63
_HASH_LEN = 10

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def _shortened(name: str, limit: int) -> str:
    """A DNS label of at most `limit` characters that still identifies `name`.

    Keeps a readable prefix (dots and other non-label characters become "-") and
    appends a hash of the whole name, so two long names with the same prefix differ.
    """
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LEN]
    prefix = re.sub(r"[^a-z0-9-]", "-", name.lower())[: limit - _HASH_LEN - 1].strip("-")
    return f"{prefix}-{digest}" if prefix else digest


def cronjob_name(scheduledjob_name: str) -> str:
    """The owned CronJob's name: the ScheduledJob's own name when that is a valid CronJob
    name, else a readable prefix plus a hash of the full name (deterministic, <= 52)."""
    if len(scheduledjob_name) <= CRONJOB_NAME_MAX and _DNS_LABEL.fullmatch(scheduledjob_name):
        return scheduledjob_name
    return _shortened(scheduledjob_name, CRONJOB_NAME_MAX)


def label_value(name: str) -> str:
    """`name` as a label value (<= 63 characters), shortened the same way when too long."""
    if len(name) <= LABEL_VALUE_MAX and _LABEL_VALUE.fullmatch(name):
        return name
    return _shortened(name, LABEL_VALUE_MAX)


def dns_subdomain_problem(value: str) -> str | None:
    if len(value) > 253:
        return f'"{value[:40]}..." is longer than 253 characters'
    if not _DNS_SUBDOMAIN.fullmatch(value):
        return (
            f'"{value}" must be lower-case letters, digits, "-" and ".", starting and ending'
            " with a letter or digit"
        )
    return None


def label_value_problem(value: str) -> str | None:
    if len(value) > LABEL_VALUE_MAX:
        return f'"{value}" is longer than 63 characters'
    if not _LABEL_VALUE.fullmatch(value):
        return (
            f'"{value}" must be letters, digits, "-", "_" and ".", starting and ending with'
            " a letter or digit"
        )
    return None


def label_key_problem(key: str) -> str | None:
    """Kubernetes' qualified-name rule: an optional DNS-subdomain prefix and a name."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or dns_subdomain_problem(prefix) is not None):
        return f'"{key}" has an invalid prefix: use a DNS name such as example.com/{name}'
    if not name or len(name) > LABEL_VALUE_MAX or not _LABEL_NAME.fullmatch(name):
        return (
            f'"{key}" is not a valid label key: use letters, digits, "-", "_" and ".", at most'
            ' 63 characters, optionally after a prefix such as "example.com/"'
        )
    return None
