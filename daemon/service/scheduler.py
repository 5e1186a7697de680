"""The daemon's rhythm: one APScheduler job that runs sync cycles and decides when the next one runs.

How a cycle is chosen
  * `start()` runs one cycle at once (with a full listing), then every `interval` seconds,
    each gap drawn from interval × uniform(1 - jitter, 1 + jitter) so that a congregation's
    computers do not poll the server in lockstep.
  * One job only (max_instances=1, coalesce=True, no misfire grace limit): cycles never
    overlap, and a run time missed while the computer slept runs once on wake, not zero times
    and not as a burst. Each cycle sets the job's next run time itself when it ends, so the
    gap is measured from the end of a cycle, not its start.
  * `sync_now()` while a cycle runs queues exactly one follow-up (a flag, not a second job).
  * Offline (NetworkError, TLS, RateLimited): retry after 30 s, 60 s, 120 s … at most 10 min,
    or later if the server's Retry-After says so; the first success resets it. This is also
    how "the network came back" is noticed: no OS hook is needed, the next retry simply works.
  * Error (wrong password, missing credentials, bad configuration): stop hammering the server;
    retry only every `error_retry` seconds (10 min) or when the user asks for a sync.
  * Attention (a safety stop): no automatic cycles at all until `sync_now(accept_deletions=True)`
    or `config_changed()`.
  * A full re-list (`full_listing=True`) on the first cycle, at least every `full_relist_every`
    seconds (2 h), after a configuration change and when deletions were accepted.
  * Sleep: a small watcher thread notices that the clocks jumped (the computer slept) and asks
    for a cycle at once.
  * A pause outlives a restart (as Syncthing's does): it is kept in `pause_file` until it is
    resumed or over, and `start()` restores it.

Cycles run in a fresh daemon thread each, so a transfer stuck in a blocking read can never keep
the process alive past `shutdown()`; the runner is expected to honour `cancel` within seconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import SchedulerNotRunningError
from apscheduler.triggers.base import BaseTrigger

from daemon.errors import (
    AuthError,
    Cancelled,
    ConfigError,
    CongsyncError,
    CredentialsError,
    ExitCode,
    FolderMissing,
    NetworkError,
    NotWebDAV,
    RateLimited,
    RoleError,
    UnsafeToProceed,
)
from daemon.files import write_json_atomic
from daemon.i18n import NO_TEXT, Text, fact, plural_fact, verbatim
from daemon.service.status import Progress, State, StatusBoard, now_iso
from daemon.sync.result import SyncResult

logger = logging.getLogger(__name__)

JOB_ID = "congsync-sync"
_JOBSTORE = "default"
# Between runs the job "parks" this far ahead; every cycle sets the real next run time when it
# ends, so the park time only matters if a cycle outlives it (then APScheduler skips that run).
_PARK_SECONDS = 24 * 3600.0
# A server's Retry-After is honoured, within reason.
_MAX_RETRY_AFTER = 6 * 3600.0
# Progress is published at most this often (plus whenever the file being transferred changes).
_PROGRESS_EVERY = 0.5

# Failures that mean "asking again soon will not help": the user has to act.
_NEEDS_USER = (AuthError, CredentialsError, ConfigError, RoleError, NotWebDAV)
# Safety stops that wait for confirmation.
_NEEDS_CONFIRMATION = (UnsafeToProceed, FolderMissing)


class CycleRunner(Protocol):
    """One sync cycle of the engine (mirror and organizer), as the scheduler calls it.

    It checks `cancel` between files and between chunks and then raises `Cancelled`; it raises
    the errors of `daemon.errors` (NetworkError, AuthError, UnsafeToProceed, RateLimited …) for
    failures of the whole cycle and reports per-file failures in the returned `SyncResult`.
    """

    def __call__(
        self,
        cancel: threading.Event,
        on_progress: Callable[[Progress], None],
        *,
        full_listing: bool,
        accept_deletions: bool,
    ) -> SyncResult: ...


@dataclass
class _Cycle:
    """One running cycle's own bookkeeping."""

    full_listing: bool
    accept_deletions: bool
    started: float  # scheduler clock
    cancel: threading.Event = field(default_factory=threading.Event)
    published: Progress | None = None
    published_at: float = 0.0


class SyncScheduler:
    """Runs the engine's cycles at the right times and publishes the state they leave behind."""

    def __init__(
        self,
        runner: CycleRunner,
        board: StatusBoard,
        interval: float = 60.0,
        jitter: float = 0.1,
        full_relist_every: float = 7200.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        backoff_base: float = 30.0,
        backoff_cap: float = 600.0,
        error_retry: float = 600.0,
        wake_check_every: float | None = 15.0,
        wake_threshold: float = 30.0,
        rng: random.Random | None = None,
        reachable: Callable[[], bool] | None = None,
        reachable_check_every: float = 15.0,
        pause_file: Path | None = None,
        before_cycle: Callable[[], bool] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        self._runner = runner
        self._board = board
        self._interval = interval
        self._jitter = jitter
        self._full_relist_every = full_relist_every
        self._clock = clock
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._error_retry = error_retry
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

        self._lock = threading.RLock()
        self._idle = threading.Event()
        self._idle.set()
        self._current: _Cycle | None = None
        self._follow_up = False
        self._want_accept = False
        self._want_full = False
        self._last_full: float | None = None
        self._failures = 0  # consecutive offline-like failures, for the backoff
        self._next_delay: float | None = interval  # None: no automatic cycle
        # An error or safety stop only the user can resolve: waking from sleep is no reason to retry.
        self._waiting_for_user = False
        self._paused = False
        self._paused_until: datetime | None = None
        self._pause_file = pause_file
        # Asked before each cycle begins (under the lock); False: none begins (the daemon stops).
        self._before_cycle = before_cycle
        self._started = False
        self._stopping = False

        self._scheduler: Any = BackgroundScheduler(
            executors={"default": _CycleThreadExecutor()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
            daemon=True,
        )
        self._watcher = (
            WakeWatcher(self.sync_soon, every=wake_check_every, threshold=wake_threshold)
            if wake_check_every
            else None
        )
        # While offline, a cheap reachability probe ends the backoff wait as soon as the
        # network (or the server) is back, instead of after up to 10 minutes.
        self._network_watcher = (
            NetworkWatcher(self._offline, reachable, self.sync_soon, every=reachable_check_every)
            if reachable is not None
            else None
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the rhythm; the first cycle (with a full listing) runs at once."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._restore_pause_locked()
            self._scheduler.add_job(
                self._job,
                trigger=_ParkTrigger(),
                id=JOB_ID,
                name="congsync sync cycle",
                jobstore=_JOBSTORE,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=datetime.now(UTC),
            )
            self._scheduler.start()
        if self._watcher is not None:
            self._watcher.start()
        if self._network_watcher is not None:
            self._network_watcher.start()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel the running cycle and stop; True if it ended within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._stopping = True
            self._follow_up = False
            if self._current is not None:
                self._current.cancel.set()
        if self._watcher is not None:
            self._watcher.stop()
        if self._network_watcher is not None:
            self._network_watcher.stop()
        try:
            self._scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            logger.debug("The scheduler was not running")
        finished = self._idle.wait(max(0.0, deadline - time.monotonic()))
        if not finished:
            logger.warning("The sync cycle did not stop in time; leaving it behind")
        return finished

    # -- commands -----------------------------------------------------------------------------

    def sync_now(self, accept_deletions: bool = False, *, full_listing: bool = True) -> int:
        """Sync now, or right after the running cycle; also ends a pause.

        A user who asks expects new media now, so it looks at everything (`full_listing`),
        whatever the listing cache believes; a drop into the organizer folder asks without.
        `accept_deletions` confirms a safety stop for the next cycle only. Returns the value of
        `cycles_finished` (in the status document) at which the requested cycle has ended.
        """
        with self._lock:
            ticket = self._board.cycles_started + 1
            if self._stopping:
                return ticket
            if full_listing or accept_deletions:
                self._want_full = True
            if accept_deletions:
                self._want_accept = True
            if self._paused:
                self._end_pause_locked()
            if self._current is not None:
                self._follow_up = True
            else:
                self._set_next_run_locked(datetime.now(UTC))
            return ticket

    def _offline(self) -> bool:
        return self._board.snapshot().state == State.OFFLINE

    def sync_soon(self) -> None:
        """Sync now unless a cycle is already running (after a wake from sleep, or the network
        coming back)."""
        with self._lock:
            busy = self._current is not None
            if busy or self._stopping or self._paused or self._waiting_for_user:
                return
            logger.info("Syncing now (woke from sleep, or the server answers again)")
            self._set_next_run_locked(datetime.now(UTC))

    def pause(self, until: datetime | None = None) -> None:
        """Cancel the running cycle and run none until `until` (or until `resume`)."""
        if until is not None:
            until = until.astimezone(UTC) if until.tzinfo else until.astimezone().astimezone(UTC)
        with self._lock:
            if self._stopping:
                return
            if until is not None and until <= datetime.now(UTC):
                self.resume()
                return
            self._enter_pause_locked(until)
            self._follow_up = False
            if self._current is not None:
                self._current.cancel.set()
            self._save_pause_locked()
            self._reschedule_locked()
            logger.info("Paused%s", f" until {until.isoformat()}" if until else "")

    def resume(self) -> None:
        """End a pause and sync at once."""
        with self._lock:
            if not self._paused or self._stopping:
                return
            self._end_pause_locked()
            if self._current is not None:
                self._follow_up = True
            else:
                self._set_next_run_locked(datetime.now(UTC))
            logger.info("Resumed")

    def config_changed(self, runner: CycleRunner | None = None) -> None:
        """The settings changed: restart with a full listing (clears error and attention)."""
        with self._lock:
            if self._stopping:
                return
            if runner is not None:
                self._runner = runner
            self._want_full = True
            self._failures = 0
            self._waiting_for_user = False
            if self._current is not None:
                self._current.cancel.set()
                self._follow_up = not self._paused
            elif not self._paused:
                self._set_next_run_locked(datetime.now(UTC))

    def save_pause(self) -> None:
        """Write the pause in force (if any) to `pause_file` again (after its folder was lost)."""
        with self._lock:
            if self._paused:
                self._save_pause_locked()

    # -- for tests and diagnostics ------------------------------------------------------------

    @property
    def job(self) -> Any:
        """The one APScheduler job (its settings are part of the contract: see the docstring)."""
        return self._scheduler.get_job(JOB_ID)

    @property
    def running(self) -> bool:
        with self._lock:
            return self._current is not None

    # -- the job ------------------------------------------------------------------------------

    def _job(self) -> None:
        """APScheduler's job: one cycle, then the follow-up if one was asked for meanwhile."""
        rested = False
        try:
            with self._lock:
                cycle = self._begin_cycle_locked()
                if cycle is None:
                    rested = self._rest_locked()
            while cycle is not None:
                outcome = self._call_runner(cycle)
                with self._lock:
                    self._finish_cycle_locked(cycle, outcome)
                    cycle = None
                    if self._follow_up and not self._stopping and not self._paused:
                        cycle = self._begin_cycle_locked()
                    if cycle is None:
                        # In the same locked step as the cycle's end: nobody sees "not running"
                        # before the next run time is set.
                        rested = self._rest_locked()
        finally:
            if not rested:
                with self._lock:
                    self._rest_locked()

    def _rest_locked(self) -> bool:
        self._current = None
        self._follow_up = False
        self._idle.set()
        self._reschedule_locked()
        return True

    def _begin_cycle_locked(self) -> _Cycle | None:
        if self._stopping:
            return None
        if self._paused:
            until = self._paused_until
            # APScheduler fires at (not before) the run time; allow for clock granularity.
            if until is None or datetime.now(UTC) < until - timedelta(seconds=1):
                return None
            self._end_pause_locked()
        if self._before_cycle is not None and not self._before_cycle():
            return None
        now = self._clock()
        full = (
            self._want_full
            or self._last_full is None
            or now - self._last_full >= self._full_relist_every
        )
        cycle = _Cycle(full_listing=full, accept_deletions=self._want_accept, started=now)
        # A confirmation covers one cycle: the next listing may show different deletions.
        self._want_accept = False
        self._follow_up = False
        self._current = cycle
        self._idle.clear()
        self._board.cycle_started(paused_until=None, next_retry_at=None)
        logger.info(
            "Sync cycle started (full listing: %s, deletions accepted: %s)",
            full,
            cycle.accept_deletions,
        )
        return cycle

    def _call_runner(self, cycle: _Cycle) -> SyncResult | Exception:
        def on_progress(progress: Progress) -> None:
            self._on_progress(cycle, progress)

        try:
            return self._runner(
                cycle.cancel,
                on_progress,
                full_listing=cycle.full_listing,
                accept_deletions=cycle.accept_deletions,
            )
        except CongsyncError as exc:
            return exc
        except Exception as exc:
            logger.exception("The sync cycle failed unexpectedly")
            return exc

    def _on_progress(self, cycle: _Cycle, progress: Progress) -> None:
        if cycle.cancel.is_set():
            return
        now = self._clock()
        with self._lock:
            if self._current is not cycle or self._paused or self._stopping:
                return
            last = cycle.published
            same_file = last is not None and (last.current, last.files_done, last.files_total) == (
                progress.current,
                progress.files_done,
                progress.files_total,
            )
            if same_file and now - cycle.published_at < _PROGRESS_EVERY:
                return
            cycle.published = progress
            cycle.published_at = now
            self._board.update(progress=progress)

    def _finish_cycle_locked(self, cycle: _Cycle, outcome: SyncResult | Exception) -> None:
        self._current = None
        if self._stopping:
            return
        if isinstance(outcome, SyncResult):
            self._finish_success_locked(cycle, outcome)
            return
        if isinstance(outcome, Cancelled):
            logger.info("Sync cycle cancelled")
            self._board.cycle_finished(*self._resting_state_locked(), exit_code=None)
            return

        state, delay = self._classify_failure_locked(outcome)
        self._next_delay = delay
        self._waiting_for_user = isinstance(outcome, _NEEDS_USER + _NEEDS_CONFIRMATION)
        retry_at = datetime.now(UTC) + timedelta(seconds=delay) if delay is not None else None
        message = _failure_message(outcome, state, retry_at)
        if state is State.ATTENTION:
            logger.warning("Sync stopped for safety: %s", outcome)
        else:
            logger.warning("Sync failed (%s): %s", state.value, outcome)
        # What a one-shot sync would exit with for this failure (3 wrong password, 7 disk …),
        # so that a sync handed to the daemon ends the same way.
        code = (
            int(outcome.exit_code) if isinstance(outcome, CongsyncError) else int(ExitCode.FAILURE)
        )
        if self._paused:
            self._board.cycle_finished(*self._resting_state_locked(), exit_code=code)
            return
        self._board.cycle_finished(
            state,
            message,
            next_retry_at=retry_at.isoformat(timespec="seconds") if retry_at else None,
            needs_confirmation=isinstance(outcome, UnsafeToProceed),
            exit_code=code,
        )

    def _finish_success_locked(self, cycle: _Cycle, result: SyncResult) -> None:
        self._failures = 0
        self._waiting_for_user = False
        if cycle.full_listing:
            self._last_full = cycle.started
            self._want_full = False
        self._next_delay = self._interval * self._rng.uniform(1 - self._jitter, 1 + self._jitter)
        state, message = self._resting_state_locked()
        if not self._paused and result.errors:
            message = plural_fact(
                "The last sync could not update {count} file; the log has the details.",
                "The last sync could not update {count} files; the log has the details.",
                len(result.errors),
                count=len(result.errors),
            )
        if result.uploaded or result.moved or result.deleted_remote or result.conflicts:
            logger.info(
                "Sync cycle finished: %d uploaded, %d moved and %d deleted on the server, "
                "%d conflicts; %d downloaded, %d updated, %d removed, %d errors",
                result.uploaded,
                result.moved,
                result.deleted_remote,
                result.conflicts,
                result.downloaded,
                result.updated,
                result.removed,
                len(result.errors),
            )
        else:
            logger.info(
                "Sync cycle finished: %d downloaded, %d updated, %d removed, %d errors",
                result.downloaded,
                result.updated,
                result.removed,
                len(result.errors),
            )
        # When the next automatic cycle is due, as the panel shows it (the job is pointed
        # there once this cycle has ended).
        next_check = datetime.now(UTC) + timedelta(seconds=self._next_delay)
        self._board.cycle_finished(
            state,
            message,
            last_result=result.to_json(),
            last_sync_at=result.finished_at or now_iso(),
            exit_code=None,
            next_retry_at=None,
            next_check_at=None if self._paused else next_check.isoformat(timespec="seconds"),
        )

    def _classify_failure_locked(self, exc: Exception) -> tuple[State, float | None]:
        """The state a failure leaves behind and the seconds until the next automatic try."""
        if isinstance(exc, _NEEDS_CONFIRMATION):
            return State.ATTENTION, None
        if isinstance(exc, _NEEDS_USER):
            return State.ERROR, self._error_retry
        self._failures += 1
        delay = min(self._backoff_cap, self._backoff_base * 2 ** (self._failures - 1))
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, _MAX_RETRY_AFTER))
        if isinstance(exc, NetworkError | RateLimited):
            return State.OFFLINE, delay
        # Server trouble, a full disk, a bug: say so, and keep trying with the same backoff.
        return State.ERROR, delay

    def _resting_state_locked(self) -> tuple[State, Text]:
        """The state between cycles when nothing went wrong: idle, or paused."""
        if self._paused:
            return State.PAUSED, _pause_message(self._paused_until)
        return State.IDLE, NO_TEXT

    # -- scheduling ---------------------------------------------------------------------------

    def _enter_pause_locked(self, until: datetime | None) -> None:
        self._paused = True
        self._paused_until = until
        self._board.transition(
            State.PAUSED,
            _pause_message(until),
            paused_until=until.isoformat(timespec="seconds") if until else None,
            next_retry_at=None,
        )

    def _end_pause_locked(self) -> None:
        self._paused = False
        self._paused_until = None
        self._board.transition(State.IDLE, paused_until=None)
        if self._pause_file is not None:
            try:
                self._pause_file.unlink(missing_ok=True)
            except OSError as exc:
                logger.warning("Could not remove %s: %s", self._pause_file, exc)

    def _save_pause_locked(self) -> None:
        if self._pause_file is None:
            return
        until = self._paused_until
        try:
            write_json_atomic(
                self._pause_file,
                {"format": 1, "until": until.isoformat() if until is not None else None},
            )
        except OSError as exc:
            logger.warning("Could not keep the pause in %s: %s", self._pause_file, exc)

    def _restore_pause_locked(self) -> None:
        """Go on with the pause a previous run left in `pause_file`, unless it is over."""
        if self._pause_file is None:
            return
        pause = read_pause_file(self._pause_file)
        if pause is None:
            return
        until = pause.until
        if until is not None and until <= datetime.now(UTC):
            with contextlib.suppress(OSError):
                self._pause_file.unlink(missing_ok=True)
            return
        self._enter_pause_locked(until)
        logger.info("Still paused%s", f" until {until.isoformat()}" if until else "")

    def _reschedule_locked(self) -> None:
        """Point the job at the next automatic cycle (or at none), from the current situation."""
        if self._stopping or not self._started:
            return
        if self._current is not None:
            return  # the running cycle reschedules when it ends
        if self._paused:
            self._set_next_run_locked(self._paused_until)
        elif self._next_delay is None:
            self._set_next_run_locked(None)
        else:
            self._set_next_run_locked(datetime.now(UTC) + timedelta(seconds=self._next_delay))

    def _set_next_run_locked(self, when: datetime | None) -> None:
        if self._stopping or not self._started:
            return
        # APScheduler treats next_run_time=None as "paused job": no automatic runs.
        self._scheduler.modify_job(JOB_ID, _JOBSTORE, next_run_time=when)


class WakeWatcher:
    """Notices that the computer slept and calls `on_wake` once it is awake again.

    Every `every` seconds it compares how far the wall clock and the monotonic clock moved
    with how long it meant to wait. While the computer sleeps the wait does not end, and
    afterwards at least one of the clocks has jumped (the wall clock always does; the
    monotonic clock too on systems that count sleep in it). A jump beyond `threshold`
    seconds means a sleep; a clock set backwards is ignored.
    """

    def __init__(
        self,
        on_wake: Callable[[], None],
        every: float = 15.0,
        threshold: float = 30.0,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_wake = on_wake
        self._every = every
        self._threshold = threshold
        self._wall = wall
        self._monotonic = monotonic
        self._last = (wall(), monotonic())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._last = (self._wall(), self._monotonic())
        self._thread = threading.Thread(target=self._loop, name="congsync-wake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> bool:
        """Compare the clocks with the last check; call `on_wake` and return True after a sleep."""
        wall, mono = self._wall(), self._monotonic()
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        lag = max(wall - last_wall, mono - last_mono) - self._every
        if lag <= self._threshold:
            return False
        logger.info("The computer seems to have slept for about %.0f seconds", lag)
        self._on_wake()
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self.check()


class NetworkWatcher:
    """While offline, probes reachability every `every` seconds and calls `on_back` once it answers."""

    def __init__(
        self,
        offline: Callable[[], bool],
        reachable: Callable[[], bool],
        on_back: Callable[[], None],
        every: float = 15.0,
    ) -> None:
        self._offline = offline
        self._reachable = reachable
        self._on_back = on_back
        self._every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="congsync-network", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> bool:
        if not self._offline() or not self._reachable():
            return False
        logger.info("The server answers again; syncing now")
        self._on_back()
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self.check()


class _ParkTrigger(BaseTrigger):  # type: ignore[misc]
    """Keeps the one job alive between runs; the scheduler sets every real run time itself."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        return now + timedelta(seconds=_PARK_SECONDS)

    def __str__(self) -> str:
        return "set by congsync after each cycle"


class _CycleThreadExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs each cycle in a fresh daemon thread, so a stuck transfer never blocks process exit."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        thread = threading.Thread(
            target=self._run, args=(job, run_times), name="congsync-cycle", daemon=True
        )
        thread.start()

    def _run(self, job: Any, run_times: list[datetime]) -> None:
        try:
            events = run_job(job, _JOBSTORE, run_times, self._logger.name)
        except Exception as exc:  # noqa: BLE001 - handed to _run_job_error, which logs it
            # run_job already catches what the job raises; this is APScheduler's own failure,
            # reported the way its executors do so that its instance count stays right.
            self._run_job_error(job.id, exc, exc.__traceback__)
        else:
            self._run_job_success(job.id, events)


@dataclass(frozen=True)
class SavedPause:
    """A pause as `pause_file` keeps it."""

    until: datetime | None  # None: until resumed


def read_pause_file(path: Path) -> SavedPause | None:
    """The pause a pause file holds; None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring the unreadable pause file %s: %s", path, exc)
        return None
    if not isinstance(data, dict):
        return None
    until = data.get("until")
    if until is None:
        return SavedPause(None)
    try:
        moment = datetime.fromisoformat(str(until))
    except ValueError:
        return None
    return SavedPause(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _pause_message(until: datetime | None) -> Text:
    if until is None:
        # Face-neutral: each face says how to resume (the tray's menu, `congsync resume`).
        return fact("Syncing is paused until resumed.")
    # A moment: said as the clock time when it is today, with the day when further away.
    return fact("Syncing is paused until {time}.", time=until)


def _failure_message(exc: Exception, state: State, retry_at: datetime | None) -> Text:
    reason: Text = (
        exc.text if isinstance(exc, CongsyncError) else verbatim(str(exc) or type(exc).__name__)
    )
    if state is State.ATTENTION:
        return reason  # the safety stop's own message says what to check and how to confirm
    when: datetime | str = retry_at if retry_at is not None else ""
    if isinstance(exc, RateLimited):
        return fact("The server asked congsync to slow down. Trying again at {time}.", time=when)
    if state is State.OFFLINE:
        return fact(
            "The server cannot be reached. {reason} Trying again at {time}.",
            reason=reason,
            time=when,
        )
    if isinstance(exc, _NEEDS_USER):
        return fact(
            "{reason} congsync tries again at {time}, or as soon as you sync.",
            reason=reason,
            time=when,
        )
    if not isinstance(exc, CongsyncError):
        return fact(
            "An unexpected problem stopped the sync ({reason}); the log has the details. "
            "Trying again at {time}.",
            reason=reason,
            time=when,
        )
    return fact("{reason} Trying again at {time}.", reason=reason, time=when)
