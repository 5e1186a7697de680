"""One daemon per configuration: the lock is exclusive across processes and dies with its holder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.errors import AlreadyRunning, CongsyncError, ExitCode
from daemon.files import write_json_atomic
from daemon.paths import Paths
from daemon.service.daemon import Daemon
from daemon.service.instance import SingleInstance, is_same_process, pid_alive, read_lock_pid
from daemon.service.status import State
from daemon.sync.result import SyncResult

WAIT = 10.0

# A second process that holds the lock until its stdin closes (or tries once, with --try).
HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from daemon.errors import AlreadyRunning
    from daemon.service.instance import SingleInstance
    from daemon.paths import Paths

    state = Path(sys.argv[1])
    paths = Paths(config_file=state / "config.toml", state_dir=state, log_dir=state / "logs")
    try:
        with SingleInstance(paths):
            print("locked", flush=True)
            if "--try" not in sys.argv:
                sys.stdin.read()
    except AlreadyRunning as exc:
        print(exc.message, flush=True)
        sys.exit(exc.exit_code)
    """
)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(
        config_file=tmp_path / "config.toml", state_dir=tmp_path, log_dir=tmp_path / "logs"
    )


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock for `tmp_path`."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(WAIT)


def try_in_another_process(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HOLDER, str(tmp_path), "--try"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )


def test_a_second_process_is_refused_while_the_first_holds_the_lock(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    second = try_in_another_process(tmp_path)
    assert second.returncode == 1
    expected = f"congsync is already running for this configuration (process {holder.pid})."
    assert second.stdout.strip() == expected


def test_the_lock_is_free_again_once_the_holder_exits(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(WAIT)
    second = try_in_another_process(tmp_path)
    assert second.returncode == 0, second.stdout
    assert second.stdout.strip() == "locked"


def test_a_killed_holder_leaves_no_stale_lock(
    tmp_path: Path, paths: Paths, holder: subprocess.Popen[str]
) -> None:
    holder.kill()
    holder.wait(WAIT)
    with SingleInstance(paths) as instance:
        assert instance.held


def test_acquiring_in_this_process_names_the_holder(
    paths: Paths, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(AlreadyRunning) as caught:
        SingleInstance(paths).acquire()
    assert caught.value.pid == holder.pid
    assert isinstance(caught.value, CongsyncError)
    assert caught.value.exit_code == ExitCode.FAILURE == 1


def test_two_locks_in_one_process_exclude_each_other_and_release(paths: Paths) -> None:
    first = SingleInstance(paths)
    first.acquire()
    with pytest.raises(AlreadyRunning):
        SingleInstance(paths).acquire()
    first.release()
    with SingleInstance(paths):
        pass


def test_the_lock_file_names_its_holder(paths: Paths) -> None:
    with SingleInstance(paths):
        assert paths.lock_file.read_text(encoding="ascii").split()[0] == str(os.getpid())


def test_pid_alive_tells_the_living_from_the_dead() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(WAIT)
    assert pid_alive(os.getpid())
    assert not pid_alive(process.pid)
    assert is_same_process(os.getpid(), None)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="zombies are told apart via /proc")
def test_an_exited_but_unreaped_child_counts_as_gone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + WAIT
        while pid_alive(process.pid):
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        assert Path(f"/proc/{process.pid}").exists()  # a zombie: exited, not yet reaped
    finally:
        process.wait(WAIT)


# -- a state folder removed under a running daemon ---------------------------------------------


def test_a_lock_whose_file_was_removed_is_taken_again_and_excludes_others_again(
    tmp_path: Path, paths: Paths
) -> None:
    lock = SingleInstance(paths)
    lock.acquire()
    paths.lock_file.unlink()
    assert not lock.intact()
    assert try_in_another_process(tmp_path).returncode == 0  # the hole the removal opens

    assert lock.retake()

    assert lock.intact()
    second = try_in_another_process(tmp_path)
    assert second.returncode == 1
    assert str(os.getpid()) in second.stdout
    lock.release()


def test_a_daemon_that_finds_another_in_its_place_stops_and_leaves_that_ones_files_alone(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    paths = Paths(config_file=tmp_path / "config.toml", state_dir=state, log_dir=state / "logs")
    cycles: list[bool] = []

    def runner(cancel: object, on_progress: object, **options: object) -> SyncResult:
        cycles.append(True)
        return SyncResult()

    daemon = Daemon(paths, runner, scheduler_options={"wake_check_every": None})
    daemon.start()
    try:
        deadline = time.monotonic() + WAIT
        while not cycles:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        shutil.rmtree(state)
        other = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(state)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert other.stdout is not None and other.stdout.readline().strip() == "locked"
            write_json_atomic(paths.status_file, {"state": "idle", "pid": other.pid})

            daemon.sync_now()  # a cycle looks at the state folder first

            deadline = time.monotonic() + WAIT
            while daemon.snapshot().state is not State.STOPPED:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert daemon.lost
            assert len(cycles) == 1
            assert json.loads(paths.status_file.read_text())["pid"] == other.pid
            assert not paths.control_file.exists()
            assert read_lock_pid(paths.lock_file) == other.pid
        finally:
            other.kill()
            other.wait(WAIT)
    finally:
        daemon.stop()


def test_a_media_folder_that_cannot_lock_is_synced_without_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A share without file locks cannot be made here: the OS's refusal (ENOLCK) is simulated.
    import errno
    import threading

    from daemon.service import instance

    def no_locks(fd: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(instance, "_lock", no_locks)
    entered = False
    with instance.media_folder_lock(tmp_path / "media", threading.Event()):
        entered = True
    assert entered
