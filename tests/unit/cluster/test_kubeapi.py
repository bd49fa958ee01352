"""Reading a kubeconfig for the node agent's small REST client."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.cluster.kubeapi import load_kubeconfig


def write(tmp_path: Path, user: dict[str, str], cluster: dict[str, str]) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443", **cluster}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return path


def test_token_and_relative_ca_file(tmp_path: Path) -> None:
    creds = load_kubeconfig(write(tmp_path, {"token": "abc"}, {"certificate-authority": "ca.crt"}))
    assert creds.server == "https://127.0.0.1:6443"
    assert creds.token == "abc"
    assert creds.ca_file == str(tmp_path / "ca.crt")


def test_inline_data_and_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-file\n")
    ca = base64.b64encode(b"CA PEM").decode()
    creds = load_kubeconfig(
        write(tmp_path, {"tokenFile": "token"}, {"certificate-authority-data": ca})
    )
    assert creds.token == "from-file"
    assert creds.ca_file is not None
    assert Path(creds.ca_file).read_bytes() == b"CA PEM"


def test_unknown_context(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="context 'other' not found"):
        load_kubeconfig(write(tmp_path, {}, {}), context="other")
