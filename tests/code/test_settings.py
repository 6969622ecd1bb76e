"""CodeSettings: read at run time, the token kept out of reprs, endpoints checked."""

from __future__ import annotations

import re

import pytest

from pipelines.code.settings import DEFAULT_ENDPOINT, CodeSettings


def test_from_environment_reads_endpoint_and_token_now() -> None:
    env = {"OPENNESS_GITHUB_ENDPOINT": "http://127.0.0.1:8080/api/v3", "GITHUB_TOKEN": "ghp_secret"}
    s = CodeSettings.from_environment(env)
    assert (s.endpoint, s.token) == ("http://127.0.0.1:8080/api/v3", "ghp_secret")
    assert "ghp_secret" not in repr(s) and "ghp_secret" not in str(s)
    assert CodeSettings.from_environment({}).endpoint == DEFAULT_ENDPOINT
    assert CodeSettings.from_environment({}).token is None
    # an explicit endpoint (the command's --endpoint) wins; None leaves the environment's
    assert CodeSettings.from_environment(env, endpoint="https://ghe.example/api/v3").endpoint == (
        "https://ghe.example/api/v3"
    )
    assert CodeSettings.from_environment(env, endpoint=None).endpoint == env["OPENNESS_GITHUB_ENDPOINT"]


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("ftp://example.org", "GitHub endpoint must be an http(s) URL"),
        ("api.github.com", "GitHub endpoint must be an http(s) URL"),
        ("https://user:pw@ghe.example/api/v3", "must not carry credentials"),
    ],
)
def test_bad_endpoints(endpoint: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        CodeSettings(endpoint=endpoint)


def test_replay_endpoint_puts_the_date_before_the_api_path() -> None:
    s = CodeSettings(endpoint="http://127.0.0.1:8080/api/v3/", replay=True)
    assert s.endpoint_for("2023-05-01") == "http://127.0.0.1:8080/as-of/2023-05-01/api/v3"
    assert (
        CodeSettings(endpoint="https://api.github.com").endpoint_for("2023-05-01") == "https://api.github.com"
    )
