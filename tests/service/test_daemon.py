"""The daemon as a whole: lock, board, scheduler and control endpoint together, in this process and in real ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from daemon.errors import AlreadyRunning, Cancelled
from daemon.paths import Paths
from daemon.service.control import ControlClient
from daemon.service.daemon import Daemon
from daemon.service.status import Progress, State, StatusSnapshot, read_status_file
from daemon.sync.result import SyncResult

WAIT = 10.0

# A daemon in its own process whose first cycle is a 2 GB download that honours `cancel`.
DAEMON_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from daemon.errors import Cancelled
    from daemon.errors import AlreadyRunning
    from daemon.service.logs import setup_logging
    from daemon.paths import Paths
    from daemon.sync.result import SyncResult
    from daemon.service.daemon import Daemon
    from daemon.service.status import Progress

    state = Path(sys.argv[1])
    paths = Paths(state / "config.toml", state, state / "logs")
    setup_logging(paths)

    def long_transfer(cancel, on_progress, *, full_listing, accept_deletions):
        print("cycle", flush=True)
        total = 2 * 1024**3
        done = 0
        while done < total:
            if cancel.wait(0.05):
                raise Cancelled("cancelled")
            done += 1024**2
            on_progress(Progress(0, 1, done, total, "2026-11-24/talk.mp4"))
        return SyncResult(downloaded=1)

    try:
        Daemon(paths, long_transfer, scheduler_options={"wake_check_every": None}).run_forever()
    except AlreadyRunning as exc:
        print(exc.message, flush=True)
        sys.exit(exc.exit_code)
    print("exited", flush=True)
    """
)


def ok(
    cancel: object,
    on_progress: Callable[[Progress], None],
    *,
    full_listing: bool,
    accept_deletions: bool,
) -> SyncResult:
    return SyncResult(downloaded=1)


def wait_until(predicate: Callable[[], bool], what: str = "") -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(
        config_file=tmp_path / "config.toml", state_dir=tmp_path, log_dir=tmp_path / "logs"
    )


@pytest.fixture
def make_daemon(paths: Paths) -> Iterator[Callable[..., Daemon]]:
    made: list[Daemon] = []

    def make(runner: Callable[..., SyncResult] = ok, **options: object) -> Daemon:
        options.setdefault("scheduler_options", {"wake_check_every": None})
        daemon = Daemon(paths, runner, **options)  # type: ignore[arg-type]
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        daemon.stop()


@pytest.fixture
def daemon_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`congsync run` in its own process, in the middle of a long download."""
    process = subprocess.Popen(
        [sys.executable, "-c", DAEMON_SCRIPT, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "cycle"
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=WAIT)


# -- in this process -------------------------------------------------------------------------


def test_the_daemon_syncs_at_start_and_on_request_from_another_terminal(
    make_daemon, paths: Paths
) -> None:
    daemon = make_daemon(interval=3600.0, role="member", media_dir="/media/congsync")
    daemon.start()
    client = ControlClient.from_paths(paths)
    assert client is not None
    with client:
        ticket = client.sync_now()
        states: list[str] = []
        final = client.follow(ticket, lambda d: states.append(d["state"]), timeout=WAIT)
    assert final["cycles_finished"] >= 2
    assert final["state"] == "idle"
    assert final["last_result"]["downloaded"] == 1
    assert final["media_dir"] == "/media/congsync"


def test_pause_and_resume_from_another_terminal(make_daemon, paths: Paths) -> None:
    daemon = make_daemon()
    daemon.start()
    wait_until(lambda: daemon.snapshot().state is State.IDLE and daemon.board.cycles_finished)
    client = ControlClient.from_paths(paths)
    assert client is not None
    with client:
        client.pause(None)
        assert client.status()["state"] == "paused"
        assert daemon.snapshot().state is State.PAUSED
        client.resume()
        wait_until(lambda: daemon.board.cycles_finished >= 2, "the cycle after resume")


def test_status_json_has_state_last_sync_and_last_result(make_daemon, paths: Paths) -> None:
    daemon = make_daemon()
    daemon.start()
    wait_until(lambda: read_status_file(paths.status_file)["last_sync_at"] is not None)
    data = read_status_file(paths.status_file)
    assert data["state"] == "idle"
    assert data["last_result"]["ok"] is True
    daemon.stop()
    data = read_status_file(paths.status_file)
    assert data["state"] == "stopped"
    assert data["last_result"]["ok"] is True


def test_stopping_removes_the_control_file_and_frees_the_lock(make_daemon, paths: Paths) -> None:
    daemon = make_daemon()
    daemon.start()
    assert paths.control_file.exists()
    daemon.stop()
    assert not paths.control_file.exists()
    assert ControlClient.from_paths(paths) is None
    make_daemon().start()  # the lock is free again


def test_a_second_daemon_for_the_same_configuration_is_refused(make_daemon) -> None:
    first = make_daemon()
    first.start()
    with pytest.raises(AlreadyRunning) as caught:
        make_daemon().start()
    assert str(os.getpid()) in caught.value.message
    assert first.snapshot().state is not State.STOPPED


def test_the_last_sync_is_remembered_across_restarts(make_daemon, paths: Paths) -> None:
    daemon = make_daemon()
    daemon.start()
    wait_until(lambda: daemon.snapshot().last_sync_at is not None)
    last = daemon.snapshot().last_sync_at
    daemon.stop()

    def never(cancel: threading.Event, on_progress: object, **flags: bool) -> SyncResult:
        cancel.wait(WAIT)
        raise Cancelled("cancelled")

    again = make_daemon(never)
    again.start()
    assert again.snapshot().last_sync_at == last


def test_the_tray_protocol(make_daemon, paths: Paths) -> None:
    quits: list[bool] = []
    daemon = make_daemon(on_quit=lambda: quits.append(True))
    assert daemon.snapshot().state is State.STOPPED
    seen: list[StatusSnapshot] = []
    daemon.subscribe(seen.append)  # before start: the tray may subscribe first
    daemon.start()
    wait_until(lambda: any(s.state is State.SYNCING for s in seen), "syncing")
    wait_until(lambda: seen[-1].state is State.IDLE, "idle")
    daemon.pause(None)
    wait_until(lambda: seen[-1].state is State.PAUSED, "paused")
    daemon.resume()
    daemon.sync_now()
    wait_until(lambda: daemon.board.cycles_finished >= 2, "another cycle")
    # Quit (from the tray's menu or `congsync stop`) stops the daemon in the background; the
    # last snapshot, "stopped", is what closes the tray.
    daemon.quit()
    assert quits == [True]
    assert daemon.wait_for_quit(0)
    wait_until(lambda: seen[-1].state is State.STOPPED, "stopped")
    daemon.stop()  # what the tray's caller does afterwards: returns once fully stopped
    assert not paths.control_file.exists()


def test_run_forever_returns_once_stop_is_asked_over_the_endpoint(
    make_daemon, paths: Paths
) -> None:
    daemon = make_daemon()
    stop_event = threading.Event()
    runner = threading.Thread(target=daemon.run_forever, args=(stop_event,))
    runner.start()
    wait_until(paths.control_file.exists, "the control file")
    control = json.loads(paths.control_file.read_text(encoding="utf-8"))
    answer = httpx.post(
        f"{control['url']}/v1/stop",
        headers={"Authorization": f"Bearer {control['secret']}"},
        trust_env=False,
    )
    assert answer.status_code == 202
    runner.join(WAIT)
    assert not runner.is_alive()
    assert stop_event.is_set()
    assert read_status_file(paths.status_file)["state"] == "stopped"
    assert not paths.control_file.exists()


# -- in real processes -----------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_2_gb_download_ends_the_process_within_5_s(
    daemon_process: subprocess.Popen[str], signum: int, tmp_path: Path
) -> None:
    paths = Paths(tmp_path / "config.toml", tmp_path, tmp_path / "logs")
    wait_until(lambda: read_status_file(paths.status_file)["progress"] is not None, "progress")
    started = time.monotonic()
    daemon_process.send_signal(signum)
    assert daemon_process.wait(timeout=WAIT) == 0
    assert time.monotonic() - started < 5.0
    assert read_status_file(paths.status_file)["state"] == "stopped"
    assert not paths.control_file.exists()


def test_congsync_stop_returns_once_the_daemon_has_exited(
    daemon_process: subprocess.Popen[str], tmp_path: Path
) -> None:
    paths = Paths(tmp_path / "config.toml", tmp_path, tmp_path / "logs")
    wait_until(paths.control_file.exists, "the control file")
    client = ControlClient.from_paths(paths)
    assert client is not None
    # Reap the child as soon as it exits, as init would for a daemon started elsewhere.
    reaper = threading.Thread(target=daemon_process.wait)
    reaper.start()
    started = time.monotonic()
    with client:
        assert client.stop(wait=WAIT) is True
    assert time.monotonic() - started < 5.0
    reaper.join(WAIT)
    assert daemon_process.returncode == 0
    assert read_status_file(paths.status_file)["state"] == "stopped"


def test_a_second_daemon_process_is_refused_and_exits_non_zero(
    daemon_process: subprocess.Popen[str], tmp_path: Path
) -> None:
    second = subprocess.run(
        [sys.executable, "-c", DAEMON_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert second.returncode == 1
    expected = f"congsync is already running for this configuration (process {daemon_process.pid})."
    assert second.stdout.strip() == expected
    assert daemon_process.poll() is None  # the first one carries on
