"""One run of jobs-runtime: configuration → handler → summary → exit code.

Every way out of :func:`run` — success, product failures, configuration error,
API refused or unreachable, SIGTERM/SIGINT, an unexpected bug — goes through the
same ending: the ``Finished scheduled job`` line, the termination message, and
an exit code from :class:`~jobs_runtime.errors.ExitCode`.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import Any

import httpx

from jobs_runtime.client import ProductClient
from jobs_runtime.config import (
    Config,
    job_name_from_env,
    load_config,
    parse_log_format,
    termination_message_path_from_env,
)
from jobs_runtime.errors import (
    ApiError,
    ApiUnreachable,
    ConfigError,
    CredentialRefused,
    ExitCode,
    Stopped,
)
from jobs_runtime.handlers import HANDLER_NAMES, HANDLERS, HandlerContext, HandlerSpec, Tally
from jobs_runtime.logs import logging_config, redact, secret_variants
from jobs_runtime.report import Summary, finished_line, write_termination_message
from jobs_runtime.retry import RetryPolicy

log = logging.getLogger("jobs_runtime")

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_SIGNAL_EXIT = {signal.SIGTERM: ExitCode.TERMINATED, signal.SIGINT: ExitCode.INTERRUPTED}


class StopRequest:
    """Remembers the first stop signal and wakes the running handler (via ``halt``)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._halt: asyncio.Event | None = None

    def attach(self, halt: asyncio.Event) -> None:
        """Connect to a run's halt event; a signal that came early halts it at once."""
        self._halt = halt
        if self.signum is not None:
            halt.set()

    def trigger(self, signum: int) -> None:
        """Called on SIGTERM/SIGINT: stop starting work, let in-flight requests finish."""
        if self.signum is None:
            self.signum = signum
            log.warning(
                "Received %s: finishing requests in flight, starting no new work",
                signal.Signals(signum).name,
            )
        if self._halt is not None:
            self._halt.set()


def run(environ: Mapping[str, str], *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """Run the configured handler once and return the process exit code."""
    started = time.monotonic()
    log_format, _ = parse_log_format(environ)
    job_name = job_name_from_env(environ)
    secrets = secret_variants(environ.get("SHOPCRON_API_KEY"))
    logging.config.dictConfig(logging_config(log_format, job_name, secrets))
    stop = StopRequest()
    tally = Tally()
    dry_run = False
    with _signals_to(stop):
        log.info("Processing scheduled job: %s", job_name)
        code: ExitCode | None = None
        reason: str | None = None
        try:
            config = load_config(environ, HANDLER_NAMES)
            dry_run = config.dry_run
            spec = HANDLERS[config.handler]
            options = spec.parse(config.data)
            _log_start(config)
            asyncio.run(_run_handler(config, spec, options, tally, stop, transport))
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("Configuration error: %s", problem)
            code, reason = ExitCode.CONFIG_ERROR, f"configuration error: {exc}"
        except CredentialRefused as exc:
            log.error(
                "The product API refused the credential (HTTP %d: %s). Check SHOPCRON_API_KEY "
                "and SHOPCRON_API_VERSION: v2 takes a secret API key (sk_…), "
                "v1 an API token sent as x-medusa-access-token",
                exc.status,
                exc.detail,
            )
            code, reason = ExitCode.API_ERROR, str(exc)
        except ApiUnreachable as exc:
            log.error("%s; is SHOPCRON_API_URL right and the API up?", exc)
            code, reason = ExitCode.API_ERROR, str(exc)
        except ApiError as exc:
            log.error("Product API error: %s", exc)
            code, reason = ExitCode.API_ERROR, f"product API error: {exc}"
        except Stopped:
            if stop.signum is None:
                log.exception("Internal error: the run stopped without a stop signal")
                code, reason = ExitCode.INTERNAL_ERROR, "internal error: stopped without a signal"
        except Exception as exc:
            log.exception("Internal error")
            code, reason = ExitCode.INTERNAL_ERROR, f"internal error: {type(exc).__name__}"

        if stop.signum is not None:
            name = signal.Signals(stop.signum).name
            code = _SIGNAL_EXIT.get(signal.Signals(stop.signum), ExitCode.TERMINATED)
            reason = f"stopped by {name} before finishing" + (f" ({reason})" if reason else "")
        elif code is None:
            code, reason = _products_outcome(tally)

        summary = Summary.from_tally(
            tally,
            time.monotonic() - started,
            dry_run=dry_run,
            reason=redact(reason, secrets) if reason else None,
        )
        log.info(
            finished_line(job_name, summary),
            extra={"fields": {"exit_code": int(code), "summary": summary.line()}},
        )
        path, explicit = termination_message_path_from_env(environ)
        write_termination_message(path, summary.line(), create=explicit)
    return int(code)


def _products_outcome(tally: Tally) -> tuple[ExitCode, str | None]:
    if tally.failed:
        noun = "product" if tally.failed == 1 else "products"
        return ExitCode.PRODUCTS_FAILED, (
            f"{tally.failed} {noun} failed (first: {tally.first_failure})"
        )
    return ExitCode.OK, None


def _log_start(config: Config) -> None:
    mode = ", dry run: nothing will be changed" if config.dry_run else ""
    log.info(
        "Running handler %s against %s (API %s%s)",
        config.handler,
        config.api_url,
        config.api_version,
        mode,
    )


async def _run_handler(
    config: Config,
    spec: HandlerSpec[Any],
    options: Any,
    tally: Tally,
    stop: StopRequest,
    transport: httpx.AsyncBaseTransport | None,
) -> None:
    halt = asyncio.Event()
    stop.attach(halt)
    with _loop_signals_to(stop):
        tuning = config.tuning
        async with ProductClient(
            base_url=config.api_url,
            api_version=config.api_version,
            api_key=config.api_key,
            policy=RetryPolicy(
                max_retries=tuning.max_retries,
                backoff_seconds=tuning.backoff_seconds,
                max_backoff_seconds=tuning.max_backoff_seconds,
            ),
            timeout_seconds=tuning.timeout_seconds,
            max_connections=tuning.concurrency,
            halt=halt,
            transport=transport,
        ) as client:
            if halt.is_set():
                return
            ctx = HandlerContext(
                api=client,
                dry_run=config.dry_run,
                tuning=tuning,
                halt=halt,
                log=logging.getLogger(f"jobs_runtime.handlers.{spec.name}"),
                tally=tally,
            )
            await spec.run(ctx, options)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _signals_to(stop: StopRequest) -> Iterator[None]:
    """Catch SIGTERM/SIGINT for the whole run (outside the event loop too), then restore."""
    if not _in_main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.trigger(signum)

    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {
        sig: signal.signal(sig, handler) for sig in _STOP_SIGNALS
    }
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


@contextmanager
def _loop_signals_to(stop: StopRequest) -> Iterator[None]:
    """Inside the event loop, signals must go through the loop so they wake it up."""
    if not _in_main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.trigger, sig)
    try:
        yield
    finally:
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        if _in_main_thread():
            # remove_signal_handler resets to the default; put the run-wide handler back.
            for sig in _STOP_SIGNALS:
                signal.signal(sig, lambda signum, _frame: stop.trigger(signum))
