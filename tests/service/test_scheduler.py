"""The scheduler's rhythm with real APScheduler and fake sync cycles: when cycles run, and the states they leave."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon.errors import (
    AuthError,
    Cancelled,
    CredentialsError,
    FolderMissing,
    NetworkError,
    RateLimited,
    UnsafeToProceed,
)
from daemon.service.scheduler import SyncScheduler, WakeWatcher
from daemon.service.status import Progress, State, StatusBoard, StatusSnapshot, read_status_file
from daemon.sync.result import SyncResult

WAIT = 5.0  # upper bound for anything a test waits for; never a timing assertion
QUIET = 0.3  # how long a test watches for cycles that must NOT happen

Behaviour = Callable[[threading.Event, Callable[[Progress], None]], SyncResult]


def ok(cancel: threading.Event, on_progress: Callable[[Progress], None]) -> SyncResult:
    return SyncResult(downloaded=1)


def raises(exc: Exception) -> Behaviour:
    def behaviour(cancel: threading.Event, on_progress: Callable[[Progress], None]) -> SyncResult:
        raise exc

    return behaviour


def long_transfer(cancel: threading.Event, on_progress: Callable[[Progress], None]) -> SyncResult:
    """A 2 GB download in 1 MB chunks that checks `cancel` between chunks, like the engine."""
    total = 2 * 1024**3
    done = 0
    while done < total:
        if cancel.wait(0.02):
            raise Cancelled("cancelled")
        done += 1024**2
        on_progress(Progress(files_done=0, files_total=1, bytes_done=done, bytes_total=total))
    return SyncResult(downloaded=1, bytes_downloaded=total)


@dataclass(frozen=True)
class Call:
    full_listing: bool
    accept_deletions: bool


class FakeRunner:
    """A CycleRunner that plays `script` one behaviour per call (then `default`) and records calls."""

    def __init__(self, *script: Behaviour, default: Behaviour = ok) -> None:
        self.script = list(script)
        self.default = default
        self.calls: list[Call] = []
        self.active = 0
        self.max_active = 0
        self.finished = 0
        self._cond = threading.Condition()

    def __call__(
        self,
        cancel: threading.Event,
        on_progress: Callable[[Progress], None],
        *,
        full_listing: bool,
        accept_deletions: bool,
    ) -> SyncResult:
        with self._cond:
            self.calls.append(Call(full_listing, accept_deletions))
            behaviour = self.script.pop(0) if self.script else self.default
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self._cond.notify_all()
        try:
            return behaviour(cancel, on_progress)
        finally:
            with self._cond:
                self.active -= 1
                self.finished += 1
                self._cond.notify_all()

    def wait_calls(self, n: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.calls) >= n, WAIT), self.calls

    def wait_finished(self, n: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.finished >= n, WAIT), self.finished

    def wait_running(self) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.active > 0, WAIT)


class Gate:
    """A behaviour that holds the cycle until released (or cancelled)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(
        self, cancel: threading.Event, on_progress: Callable[[Progress], None]
    ) -> SyncResult:
        deadline = time.monotonic() + WAIT
        while not self.release.is_set():
            if cancel.wait(0.01):
                raise Cancelled("cancelled")
            assert time.monotonic() < deadline, "gate never released"
        return SyncResult()


def wait_until(predicate: Callable[[], bool], what: str = "") -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def seconds_until_next_run(scheduler: SyncScheduler) -> float | None:
    when = scheduler.job.next_run_time
    return None if when is None else (when - datetime.now(UTC)).total_seconds()


@pytest.fixture
def board(tmp_path: Path) -> StatusBoard:
    return StatusBoard(tmp_path / "status.json")


@pytest.fixture
def make_scheduler(board: StatusBoard) -> Iterator[Callable[..., SyncScheduler]]:
    made: list[SyncScheduler] = []

    def make(runner: FakeRunner, **options: object) -> SyncScheduler:
        options.setdefault("interval", 3600.0)
        options.setdefault("wake_check_every", None)
        scheduler = SyncScheduler(runner, board, **options)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.shutdown(timeout=WAIT)


def states_of(board: StatusBoard) -> list[StatusSnapshot]:
    seen: list[StatusSnapshot] = []
    board.subscribe(seen.append)
    return seen


# -- the rhythm ------------------------------------------------------------------------------


def test_start_runs_one_cycle_at_once_with_a_full_listing(make_scheduler, board) -> None:
    runner = FakeRunner()
    make_scheduler(runner).start()
    runner.wait_finished(1)
    wait_until(lambda: board.snapshot().state is State.IDLE and board.cycles_finished == 1)
    assert runner.calls == [Call(full_listing=True, accept_deletions=False)]
    snapshot = board.snapshot()
    assert snapshot.last_result is not None and snapshot.last_result["downloaded"] == 1
    assert snapshot.last_sync_at is not None


def test_cycles_repeat_at_the_interval_without_help(make_scheduler) -> None:
    runner = FakeRunner()
    make_scheduler(runner, interval=0.05).start()
    runner.wait_calls(4)
    assert [c.full_listing for c in runner.calls[:4]] == [True, False, False, False]


def test_each_gap_is_the_interval_times_a_random_factor_within_ten_percent(
    make_scheduler,
) -> None:
    class ExtremeRandom:
        def __init__(self) -> None:
            self.asked: list[tuple[float, float]] = []

        def uniform(self, a: float, b: float) -> float:
            self.asked.append((a, b))
            return b

    rng = ExtremeRandom()
    runner = FakeRunner()
    scheduler = make_scheduler(runner, interval=1000.0, rng=rng)
    scheduler.start()
    runner.wait_finished(1)
    wait_until(lambda: rng.asked, "the jitter draw")
    assert rng.asked == [(pytest.approx(0.9), pytest.approx(1.1))]
    wait_until(lambda: not scheduler.running, "rescheduling")
    assert 1000 < (seconds_until_next_run(scheduler) or 0) <= 1100


def test_the_one_job_never_overlaps_and_coalesces_missed_runs(make_scheduler) -> None:
    scheduler = make_scheduler(FakeRunner())
    scheduler.start()
    job = scheduler.job
    assert job.max_instances == 1
    assert job.coalesce is True
    assert job.misfire_grace_time is None  # a run missed during sleep still runs


def test_cycles_never_overlap_however_often_sync_is_asked(make_scheduler) -> None:
    def slow(cancel: threading.Event, on_progress: Callable[[Progress], None]) -> SyncResult:
        time.sleep(0.02)
        return SyncResult()

    runner = FakeRunner(default=slow)
    scheduler = make_scheduler(runner, interval=0.01)
    scheduler.start()

    def hammer() -> None:
        for _ in range(30):
            scheduler.sync_now()
            time.sleep(0.003)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runner.wait_calls(5)
    assert runner.max_active == 1


def test_sync_now_during_a_cycle_queues_exactly_one_follow_up(make_scheduler, board) -> None:
    gate = Gate()
    runner = FakeRunner(gate)
    scheduler = make_scheduler(runner)
    scheduler.start()
    runner.wait_running()

    tickets = {scheduler.sync_now() for _ in range(5)}

    gate.release.set()
    runner.wait_finished(2)
    time.sleep(QUIET)
    assert len(runner.calls) == 2
    assert tickets == {2}  # the follow-up is cycle 2
    wait_until(lambda: board.cycles_finished == 2)


def test_sync_now_when_idle_runs_a_cycle_at_once(make_scheduler, board) -> None:
    runner = FakeRunner()
    scheduler = make_scheduler(runner)
    scheduler.start()
    runner.wait_finished(1)
    wait_until(lambda: not scheduler.running)
    assert scheduler.sync_now() == 2
    runner.wait_finished(2)
    assert len(runner.calls) == 2


def test_sync_now_always_looks_at_everything(make_scheduler) -> None:
    """A user who clicks Sync now expects new media now: a full listing, whatever is cached."""
    gate = Gate()
    runner = FakeRunner(ok, ok, gate)
    scheduler = make_scheduler(runner)
    scheduler.start()
    runner.wait_finished(1)
    wait_until(lambda: not scheduler.running)
    scheduler.sync_now()  # idle: at once
    runner.wait_finished(2)
    wait_until(lambda: not scheduler.running)
    scheduler.sync_soon()  # a wake from sleep: the cheap poll
    runner.wait_running()
    scheduler.sync_now()  # while a cycle runs: the follow-up
    gate.release.set()
    runner.wait_finished(4)

    assert [c.full_listing for c in runner.calls] == [True, True, False, True]


def test_a_run_missed_while_asleep_runs_once_not_zero_times_nor_a_burst(make_scheduler) -> None:
    runner = FakeRunner()
    scheduler = make_scheduler(runner, interval=0.2)
    scheduler.start()
    runner.wait_finished(1)
    wait_until(lambda: not scheduler.running)
    # What the scheduler finds on waking from an hour's sleep with interval 0.2 s: its next
    # run time long past (thousands of intervals missed).
    scheduler.job.modify(next_run_time=datetime.now(UTC) - timedelta(hours=1))
    runner.wait_finished(2)
    # Then back to the normal rhythm: the next cycle is an interval away, not a backlog.
    wait_until(lambda: not scheduler.running)
    assert (seconds_until_next_run(scheduler) or 0) > 0.1
    assert len(runner.calls) == 2


def test_sync_soon_after_wake_does_not_queue_behind_a_running_cycle(make_scheduler) -> None:
    gate = Gate()
    runner = FakeRunner(gate)
    scheduler = make_scheduler(runner)
    scheduler.start()
    runner.wait_running()
    scheduler.sync_soon()
    gate.release.set()
    runner.wait_finished(1)
    time.sleep(QUIET)
    assert len(runner.calls) == 1
    scheduler.sync_soon()
    runner.wait_finished(2)


def test_wake_watcher_notices_a_clock_jump_and_asks_once() -> None:
    now = {"wall": 1000.0, "mono": 50.0}
    woke: list[bool] = []
    watcher = WakeWatcher(
        lambda: woke.append(True),
        every=15,
        threshold=30,
        wall=lambda: now["wall"],
        monotonic=lambda: now["mono"],
    )
    now["wall"] += 15.2
    now["mono"] += 15.2
    assert watcher.check() is False
    # Suspended for an hour: the monotonic clock stood still, the wall clock did not.
    now["wall"] += 3600 + 15
    now["mono"] += 15
    assert watcher.check() is True
    now["wall"] += 15
    now["mono"] += 15
    assert watcher.check() is False
    # A system that counts sleep in its monotonic clock is noticed too.
    now["wall"] += 900
    now["mono"] += 900
    assert watcher.check() is True
    # A wall clock set back is not a sleep.
    now["wall"] -= 7200
    now["mono"] += 15
    assert watcher.check() is False
    assert woke == [True, True]


def test_full_listing_comes_back_every_two_hours(make_scheduler) -> None:
    clock = {"now": 0.0}
    runner = FakeRunner()
    scheduler = make_scheduler(runner, full_relist_every=7200.0, clock=lambda: clock["now"])
    scheduler.start()
    for n, at in enumerate((60.0, 3600.0, 7199.0, 7200.0, 7260.0), start=2):
        runner.wait_finished(n - 1)
        wait_until(lambda: not scheduler.running)
        clock["now"] = at
        scheduler.sync_now(full_listing=False)  # as a drop into the organizer folder asks
    runner.wait_finished(6)
    assert [c.full_listing for c in runner.calls] == [True, False, False, False, True, False]


# -- states after a cycle --------------------------------------------------------------------


def test_a_result_with_file_errors_is_idle_and_shows_them(make_scheduler, board) -> None:
    def partial(cancel: threading.Event, on_progress: Callable[[Progress], None]) -> SyncResult:
        return SyncResult(downloaded=2, errors=["video.mp4 could not be written: disk full"])

    make_scheduler(FakeRunner(partial)).start()
    wait_until(lambda: board.cycles_finished == 1)
    snapshot = board.snapshot()
    assert snapshot.state is State.IDLE
    assert snapshot.last_result is not None
    assert snapshot.last_result["errors"] == ["video.mp4 could not be written: disk full"]
    assert snapshot.last_result["ok"] is False
    assert "1" in str(snapshot.message)


def test_progress_reaches_the_board_while_syncing(make_scheduler, board) -> None:
    seen = states_of(board)
    release = threading.Event()

    def reporting(cancel: threading.Event, on_progress: Callable[[Progress], None]) -> SyncResult:
        on_progress(Progress(files_done=0, files_total=2, current="2026-11-24/intro.mp4"))
        on_progress(Progress(files_done=1, files_total=2, current="2026-11-24/song.mp4"))
        release.wait(WAIT)
        return SyncResult(downloaded=2)

    make_scheduler(FakeRunner(reporting)).start()
    wait_until(lambda: (board.snapshot().progress or Progress()).files_done == 1, "progress")
    assert board.snapshot().state is State.SYNCING
    release.set()
    wait_until(lambda: board.snapshot().state is State.IDLE)
    assert board.snapshot().progress is None
    wait_until(lambda: any(s.progress and s.progress.files_done == 1 for s in seen), "listener")


def test_offline_retries_grow_from_30_s_to_at_most_10_min(make_scheduler, board) -> None:
    runner = FakeRunner(*[raises(NetworkError("The server cannot be reached."))] * 8)
    scheduler = make_scheduler(runner)
    scheduler.start()
    delays = []
    for n in range(1, 9):
        runner.wait_finished(n)
        wait_until(lambda n=n: not scheduler.running and board.cycles_finished == n)
        assert board.snapshot().state is State.OFFLINE
        assert board.snapshot().next_retry_at is not None
        delays.append(round(seconds_until_next_run(scheduler) or 0))
        # Let the retry time "arrive" without waiting for it.
        scheduler.job.modify(next_run_time=datetime.now(UTC))
    assert delays == [30, 60, 120, 240, 480, 600, 600, 600]
    runner.wait_finished(9)
    wait_until(lambda: board.snapshot().state is State.IDLE, "recovery")
    # Success resets the backoff: back to the normal interval.
    assert (seconds_until_next_run(scheduler) or 0) > 3000


def test_a_server_asking_to_wait_longer_is_honoured(make_scheduler, board) -> None:
    slow_down = RateLimited("Too many requests.", 429, retry_after=900.0)
    runner = FakeRunner(raises(slow_down))
    scheduler = make_scheduler(runner)
    scheduler.start()
    wait_until(lambda: board.cycles_finished == 1 and not scheduler.running)
    assert board.snapshot().state is State.OFFLINE
    assert 890 < (seconds_until_next_run(scheduler) or 0) <= 900


def test_offline_recovers_to_idle_by_itself(make_scheduler, board) -> None:
    down = raises(NetworkError("The server cannot be reached."))
    runner = FakeRunner(down, down, down)
    seen = states_of(board)
    make_scheduler(runner, interval=3600.0, backoff_base=0.02, backoff_cap=0.1).start()
    runner.wait_finished(4)
    # Listeners hear of it too (on the board's own thread, hence the wait).
    wait_until(lambda: bool(seen) and seen[-1].state is State.IDLE, "recovery")
    states = [s.state for s in seen]
    assert states.count(State.OFFLINE) == 3


def test_an_organizers_uploads_are_logged_as_uploads(
    make_scheduler, board, caplog: pytest.LogCaptureFixture
) -> None:
    def published(cancel: threading.Event, on_progress: Callable[[Progress], None]) -> SyncResult:
        return SyncResult(uploaded=3, moved=1)

    with caplog.at_level("INFO", logger="daemon.service.scheduler"):
        make_scheduler(FakeRunner(published)).start()
        wait_until(lambda: board.cycles_finished == 1)
    assert "3 uploaded, 1 moved and 0 deleted on the server" in caplog.text


def test_a_failed_cycle_leaves_the_exit_code_a_one_shot_sync_would_have(
    make_scheduler, board
) -> None:
    make_scheduler(FakeRunner(raises(AuthError("wrong password")))).start()
    wait_until(lambda: board.cycles_finished == 1)
    assert board.snapshot().exit_code == 3


@pytest.mark.parametrize(
    "error",
    [
        AuthError("The server rejected the password. Run: congsync login"),
        CredentialsError("No password is stored. Run: congsync login"),
    ],
)
def test_a_rejected_password_is_an_error_and_stops_polling(make_scheduler, board, error) -> None:
    runner = FakeRunner(raises(error))
    scheduler = make_scheduler(runner, interval=0.02)
    scheduler.start()
    wait_until(lambda: board.cycles_finished == 1 and not scheduler.running)
    time.sleep(QUIET)
    assert len(runner.calls) == 1  # not every 0.02 s
    snapshot = board.snapshot()
    assert snapshot.state is State.ERROR
    assert "congsync login" in str(snapshot.message)
    assert 590 < (seconds_until_next_run(scheduler) or 0) <= 600
    # Asking explicitly tries again at once (the user may have fixed the password).
    scheduler.sync_now()
    runner.wait_finished(2)
    wait_until(lambda: board.snapshot().state is State.IDLE)


@pytest.mark.parametrize(
    "stop",
    [
        UnsafeToProceed("This sync would delete 30 of 40 files."),
        FolderMissing("The congregation folder is gone from the server."),
    ],
)
def test_a_safety_stop_waits_for_confirmation(make_scheduler, board, stop) -> None:
    runner = FakeRunner(raises(stop))
    scheduler = make_scheduler(runner, interval=0.02)
    scheduler.start()
    wait_until(lambda: board.cycles_finished == 1 and not scheduler.running)
    time.sleep(QUIET)
    assert len(runner.calls) == 1
    assert board.snapshot().state is State.ATTENTION
    assert stop.message in str(board.snapshot().message)
    assert scheduler.job.next_run_time is None

    scheduler.sync_now(accept_deletions=True)
    runner.wait_finished(2)
    assert runner.calls[1] == Call(full_listing=True, accept_deletions=True)
    wait_until(lambda: board.snapshot().state is State.IDLE)
    # The confirmation covered one cycle only.
    runner.wait_finished(3)
    assert runner.calls[2].accept_deletions is False


@pytest.mark.parametrize(
    "error", [UnsafeToProceed("Too many deletions."), AuthError("Wrong password.")]
)
def test_waking_from_sleep_does_not_retry_what_only_the_user_can_fix(
    make_scheduler, board, error
) -> None:
    runner = FakeRunner(raises(error))
    scheduler = make_scheduler(runner)
    scheduler.start()
    wait_until(lambda: board.cycles_finished == 1 and not scheduler.running)
    scheduler.sync_soon()
    time.sleep(QUIET)
    assert len(runner.calls) == 1


def test_waking_from_sleep_while_offline_retries_at_once(make_scheduler, board) -> None:
    runner = FakeRunner(raises(NetworkError("The server cannot be reached.")))
    scheduler = make_scheduler(runner)
    scheduler.start()
    wait_until(lambda: board.cycles_finished == 1 and not scheduler.running)
    scheduler.sync_soon()
    runner.wait_finished(2)
    wait_until(lambda: board.snapshot().state is State.IDLE)


def test_a_configuration_change_ends_a_safety_stop(make_scheduler, board) -> None:
    runner = FakeRunner(raises(UnsafeToProceed("Too many deletions.")))
    scheduler = make_scheduler(runner)
    scheduler.start()
    wait_until(lambda: board.snapshot().state is State.ATTENTION and not scheduler.running)
    scheduler.config_changed()
    runner.wait_finished(2)
    assert runner.calls[1] == Call(full_listing=True, accept_deletions=False)
    wait_until(lambda: board.snapshot().state is State.IDLE)


def test_an_unexpected_failure_is_an_error_that_is_retried(make_scheduler, board) -> None:
    runner = FakeRunner(raises(RuntimeError("bug")))
    scheduler = make_scheduler(runner, backoff_base=0.02)
    scheduler.start()
    runner.wait_finished(2)
    wait_until(lambda: board.snapshot().state is State.IDLE)


# -- pause, resume, shutdown -----------------------------------------------------------------


def test_pause_cancels_the_running_cycle_and_holds_until_resume(make_scheduler, board) -> None:
    runner = FakeRunner(long_transfer)
    scheduler = make_scheduler(runner, interval=0.02)
    scheduler.start()
    runner.wait_running()
    scheduler.pause()
    runner.wait_finished(1)
    wait_until(lambda: not scheduler.running)
    time.sleep(QUIET)
    assert len(runner.calls) == 1
    snapshot = board.snapshot()
    assert snapshot.state is State.PAUSED
    assert snapshot.paused_until is None
    assert snapshot.progress is None

    scheduler.resume()
    runner.wait_finished(2)
    wait_until(lambda: board.snapshot().state is State.IDLE)


def test_pause_until_a_time_resumes_by_itself(make_scheduler, board) -> None:
    runner = FakeRunner()
    scheduler = make_scheduler(runner)
    scheduler.start()
    runner.wait_finished(1)
    wait_until(lambda: not scheduler.running)
    until = datetime.now(UTC) + timedelta(seconds=1.5)
    scheduler.pause(until)
    assert board.snapshot().state is State.PAUSED
    assert board.snapshot().paused_until == until.isoformat(timespec="seconds")
    runner.wait_finished(2)
    wait_until(lambda: board.snapshot().state is State.IDLE)
    assert board.snapshot().paused_until is None


def test_sync_now_while_paused_ends_the_pause(make_scheduler, board) -> None:
    runner = FakeRunner()
    scheduler = make_scheduler(runner)
    scheduler.start()
    runner.wait_finished(1)
    wait_until(lambda: not scheduler.running)
    scheduler.pause()
    scheduler.sync_now()
    runner.wait_finished(2)
    wait_until(lambda: board.snapshot().state is State.IDLE)


def test_shutdown_during_a_2_gb_download_returns_within_5_s(make_scheduler, board) -> None:
    runner = FakeRunner(long_transfer)
    scheduler = make_scheduler(runner)
    scheduler.start()
    runner.wait_running()
    wait_until(lambda: board.snapshot().progress is not None, "progress")
    started = time.monotonic()
    assert scheduler.shutdown(timeout=5.0) is True
    assert time.monotonic() - started < 5.0
    assert runner.active == 0


def test_shutdown_gives_up_on_a_cycle_that_ignores_cancel(make_scheduler) -> None:
    stuck = threading.Event()

    def ignores_cancel(
        cancel: threading.Event, on_progress: Callable[[Progress], None]
    ) -> SyncResult:
        stuck.wait(WAIT)
        return SyncResult()

    runner = FakeRunner(ignores_cancel)
    scheduler = make_scheduler(runner)
    scheduler.start()
    runner.wait_running()
    started = time.monotonic()
    assert scheduler.shutdown(timeout=0.2) is False
    assert time.monotonic() - started < 5.0
    stuck.set()


def test_no_cycle_starts_after_shutdown(make_scheduler, board) -> None:
    runner = FakeRunner()
    scheduler = make_scheduler(runner, interval=0.02)
    scheduler.start()
    runner.wait_finished(1)
    scheduler.shutdown()
    count = len(runner.calls)
    scheduler.sync_now()
    time.sleep(QUIET)
    assert len(runner.calls) == count


def test_the_status_file_follows_the_state(make_scheduler, board, tmp_path) -> None:
    runner = FakeRunner(raises(NetworkError("The server cannot be reached.")))
    scheduler = make_scheduler(runner)
    scheduler.start()
    wait_until(lambda: read_status_file(tmp_path / "status.json")["state"] == "offline")
