"""Names derived from a ScheduledJob: valid for Kubernetes, stable and distinct."""

from __future__ import annotations

import re

import pytest
from scheduledjob_operator.names import (
    cronjob_name,
    dns_subdomain_problem,
    label_key_problem,
    label_value,
    label_value_problem,
)

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@pytest.mark.parametrize("name", ["nightly", "a", "publish-drafts-2", "a" * 52])
def test_names_that_fit_are_used_as_they_are(name: str) -> None:
    assert cronjob_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "a" * 53,
        "a" * 253,
        "shop.nightly",
        "nightly-publish-of-all-draft-products-for-the-european-storefront",
        "x" * 41 + "-" + "y" * 20,  # the cut lands next to a dash
        ".".join(["a"] * 60),
    ],
)
def test_other_names_become_a_valid_short_name(name: str) -> None:
    short = cronjob_name(name)
    assert len(short) <= 52
    assert DNS_LABEL.fullmatch(short), short
    assert short == cronjob_name(name)  # deterministic


def test_shortened_names_keep_a_readable_prefix() -> None:
    assert cronjob_name(
        "nightly-publish-of-all-draft-products-for-the-european-storefront"
    ).startswith("nightly-publish-of-all-draft-products-for")


def test_names_that_share_a_long_prefix_stay_distinct() -> None:
    prefix = "nightly-publish-of-all-draft-products-for-the-european-"
    names = {cronjob_name(prefix + suffix) for suffix in ("storefront", "marketplace", "outlet")}
    assert len(names) == 3
    assert cronjob_name("shop.nightly") != cronjob_name("shop-nightly")


def test_label_values_fit_in_63_characters() -> None:
    assert label_value("nightly") == "nightly"
    assert label_value("shop.nightly") == "shop.nightly"  # dots are fine in label values
    long = label_value("a" * 100)
    assert len(long) <= 63
    assert label_value_problem(long) is None


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("pool", True),
        ("kubernetes.io/arch", True),
        ("node.kubernetes.io/instance-type", True),
        ("a_b.c-d", True),
        ("", False),
        ("/pool", False),
        ("Example.COM/pool", False),
        ("pool/", False),
        ("bad key", False),
        ("x" * 64, False),
    ],
)
def test_label_keys(key: str, ok: bool) -> None:
    assert (label_key_problem(key) is None) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("medusa", True),
        ("medusa.api-key", True),
        ("Medusa", False),
        ("-x", False),
        ("x" * 254, False),
    ],
)
def test_dns_subdomains(name: str, ok: bool) -> None:
    assert (dns_subdomain_problem(name) is None) is ok
