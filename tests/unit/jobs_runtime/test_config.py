"""Configuration from SHOPCRON_* variables: defaults, validation, the key kept secret."""

from __future__ import annotations

import pytest
from jobs_runtime.config import (
    DEFAULT_TERMINATION_MESSAGE_PATH,
    Secret,
    Tuning,
    job_name_from_env,
    load_config,
    parse_log_format,
    termination_message_path_from_env,
)
from jobs_runtime.errors import ConfigError
from jobs_runtime.handlers import DEFAULT_HANDLER, HANDLER_NAMES

KEY = "sk_unit_0123456789"
MINIMAL = {"SHOPCRON_API_URL": "http://medusa:9000", "SHOPCRON_API_KEY": KEY}


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(env, HANDLER_NAMES)
    return caught.value.problems


def test_registry_contains_the_first_handler() -> None:
    assert "publish-draft-products" in HANDLER_NAMES
    assert DEFAULT_HANDLER == "publish-draft-products"


def test_defaults() -> None:
    config = load_config(MINIMAL, HANDLER_NAMES)
    assert config.handler == "publish-draft-products"
    assert config.job_name == "publish-draft-products"
    assert config.data == {}
    assert config.api_version == "v2"
    assert config.dry_run is False
    assert config.log_format == "plain"
    assert config.tuning == Tuning()
    assert config.termination_message_path == DEFAULT_TERMINATION_MESSAGE_PATH


def test_all_settings() -> None:
    env = {
        **MINIMAL,
        "SHOPCRON_JOB_NAME": "publish-products",
        "SHOPCRON_DATA": '{"limit": 3}',
        "SHOPCRON_API_URL": "https://shop.example/api/",
        "SHOPCRON_API_VERSION": "V1",
        "SHOPCRON_DRY_RUN": "True",
        "SHOPCRON_LOG_FORMAT": "json",
        "SHOPCRON_CONCURRENCY": "8",
        "SHOPCRON_PAGE_SIZE": "200",
        "SHOPCRON_BATCH_SIZE": "50",
        "SHOPCRON_TIMEOUT_SECONDS": "2.5",
        "SHOPCRON_MAX_RETRIES": "0",
        "SHOPCRON_BACKOFF_SECONDS": "0.1",
        "SHOPCRON_MAX_BACKOFF_SECONDS": "5",
        "SHOPCRON_TERMINATION_MESSAGE_PATH": "/tmp/tm",
    }
    config = load_config(env, HANDLER_NAMES)
    assert config.job_name == "publish-products"
    assert config.data == {"limit": 3}
    assert config.api_url == "https://shop.example/api"
    assert config.api_version == "v1"
    assert config.dry_run is True
    assert config.log_format == "json"
    assert config.tuning == Tuning(8, 200, 50, 2.5, 0, 0.1, 5.0)
    assert config.termination_message_path == "/tmp/tm"


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            "SHOPCRON_HANDLER": "reindex-everything",
            "SHOPCRON_DATA": "[]",
            "SHOPCRON_API_VERSION": "v3",
            "SHOPCRON_DRY_RUN": "perhaps",
            "SHOPCRON_CONCURRENCY": "0",
            "SHOPCRON_TIMEOUT_SECONDS": "soon",
            "SHOPCRON_LOG_FORMAT": "xml",
        }
    )
    assert found == [
        "SHOPCRON_LOG_FORMAT must be 'plain' or 'json', not 'xml'",
        "SHOPCRON_HANDLER 'reindex-everything' is not a known handler "
        "(known: publish-draft-products)",
        "SHOPCRON_DATA must be a JSON object, not list",
        "SHOPCRON_API_URL is not set (the product API base URL, e.g. http://medusa:9000)",
        "SHOPCRON_API_VERSION must be 'v2' or 'v1', not 'v3'",
        "SHOPCRON_API_KEY is not set (the product API credential)",
        "SHOPCRON_DRY_RUN must be 'true' or 'false', not 'perhaps'",
        "SHOPCRON_CONCURRENCY must be between 1 and 64, not '0'",
        "SHOPCRON_TIMEOUT_SECONDS must be a number, not 'soon'",
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("medusa:9000", "must be an absolute http:// or https:// URL"),
        ("ftp://medusa", "must be an absolute http:// or https:// URL"),
        ("http://admin:pw@medusa", "must not carry credentials"),
        ("http://medusa/?x=1", "must not have a query string"),
        ("http://medusa:99999", "invalid port"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    assert any(message in p for p in problems({**MINIMAL, "SHOPCRON_API_URL": url}))


def test_invalid_json_data_says_where() -> None:
    assert problems({**MINIMAL, "SHOPCRON_DATA": '{"limit": }'}) == [
        "SHOPCRON_DATA is not valid JSON (Expecting value at position 10)"
    ]


def test_key_problems_never_quote_the_key() -> None:
    for bad in (f"{KEY} x", "sk_1", f"{KEY}\x07"):
        for problem in problems({**MINIMAL, "SHOPCRON_API_KEY": bad}):
            assert bad.strip() not in problem


def test_surrounding_whitespace_is_trimmed_from_the_key() -> None:
    config = load_config({**MINIMAL, "SHOPCRON_API_KEY": f"  {KEY}\n"}, HANDLER_NAMES)
    assert config.api_key.reveal() == KEY


def test_the_key_never_shows_in_repr_or_str() -> None:
    config = load_config(MINIMAL, HANDLER_NAMES)
    assert KEY not in repr(config)
    assert KEY not in str(config)
    assert str(Secret(KEY)) == "***"


def test_backoff_cap_must_not_be_below_the_base() -> None:
    found = problems(
        {**MINIMAL, "SHOPCRON_BACKOFF_SECONDS": "5", "SHOPCRON_MAX_BACKOFF_SECONDS": "1"}
    )
    assert found == [
        "SHOPCRON_MAX_BACKOFF_SECONDS must not be smaller than SHOPCRON_BACKOFF_SECONDS"
    ]


def test_early_helpers_never_fail() -> None:
    assert parse_log_format({"SHOPCRON_LOG_FORMAT": "yaml"})[0] == "plain"
    assert job_name_from_env({}) == "publish-draft-products"
    assert job_name_from_env({"SHOPCRON_HANDLER": "x"}) == "x"
    assert termination_message_path_from_env({}) == (DEFAULT_TERMINATION_MESSAGE_PATH, False)
    assert termination_message_path_from_env({"SHOPCRON_TERMINATION_MESSAGE_PATH": "/t"}) == (
        "/t",
        True,
    )
