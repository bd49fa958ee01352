"""Fresh namespaces for tests: each test gets its own, deleted afterwards."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

from kubernetes import client

from tests.support.waiting import wait_for


@contextlib.contextmanager
def fresh_namespace(core: client.CoreV1Api, prefix: str) -> Iterator[str]:
    """Create `<prefix>-<random>` and wait for its default ServiceAccount (the job
    controller cannot create pods before it exists); delete it on exit."""
    name = f"{prefix}-{secrets.token_hex(4)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))

    def default_sa() -> bool:
        try:
            core.read_namespaced_service_account("default", name)
        except client.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    wait_for(default_sa, timeout=30, what=f"ServiceAccount default in {name}")
    try:
        yield name
    finally:
        with contextlib.suppress(client.ApiException):
            core.delete_namespace(name)
