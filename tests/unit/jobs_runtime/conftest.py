"""Keep the runtime's logging set-up (it is the application's job) from leaking into other tests."""

from __future__ import annotations

from tests.integration.jobs_runtime.conftest import restore_logging

__all__ = ["restore_logging"]  # autouse fixture, registered by being imported here
