"""The status board: one current snapshot, its listeners, and the status file other processes read."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from daemon.i18n import fact
from daemon.service.status import (
    MeetingSummary,
    Progress,
    State,
    StatusBoard,
    StatusSnapshot,
    read_status_file,
    snapshot_from_json,
    snapshot_to_json,
)
from daemon.sync.result import SyncResult

WAIT = 5.0


def wait_until(predicate, what: str = "") -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_status_file_is_json_with_state_last_sync_and_last_result(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    board = StatusBoard(path)
    result = SyncResult(downloaded=3, finished_at="2026-11-22T18:00:00+00:00")
    board.cycle_started()
    board.cycle_finished(
        State.IDLE, last_result=result.to_json(), last_sync_at="2026-11-22T18:00:00+00:00"
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["state"] == "idle"
    assert data["last_sync_at"] == "2026-11-22T18:00:00+00:00"
    assert data["last_result"]["downloaded"] == 3
    assert data["pid"] == os.getpid()
    assert data["cycles_finished"] == 1


def test_the_status_file_is_replaced_whole_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    board = StatusBoard(path)
    torn: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                torn.append(str(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(100):
            board.update(progress=Progress(files_done=n, files_total=100, current="x" * n))
    finally:
        stop.set()
        thread.join()
    assert torn == []
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_the_status_file_is_private_to_the_user(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    StatusBoard(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reading_a_missing_status_file_says_stopped(tmp_path: Path) -> None:
    data = read_status_file(tmp_path / "status.json")
    assert data["state"] == "stopped"
    assert data["running"] is False
    assert data["last_sync_at"] is None


def test_reading_a_live_daemons_status_gives_its_state(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    board = StatusBoard(path)
    board.cycle_started()
    data = read_status_file(path)
    assert data["state"] == "syncing"
    assert data["running"] is True


def test_a_status_file_left_by_a_dead_daemon_reads_stopped_but_keeps_the_last_sync(
    tmp_path: Path,
) -> None:
    path = tmp_path / "status.json"
    board = StatusBoard(path, pid=dead_pid(), start_token="linux:1")
    board.update(state=State.SYNCING, last_sync_at="2026-11-22T18:00:00+00:00")
    data = read_status_file(path)
    assert data["state"] == "stopped"
    assert data["running"] is False
    assert data["progress"] is None
    assert data["last_sync_at"] == "2026-11-22T18:00:00+00:00"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs process start times")
def test_a_reused_process_id_is_not_mistaken_for_the_daemon(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    # Our own pid is alive, but the token says the file was written by an earlier process.
    StatusBoard(path, start_token="linux:1").update(state=State.IDLE)
    assert read_status_file(path)["state"] == "stopped"


def test_a_corrupt_status_file_reads_stopped(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    path.write_text("{not json", encoding="utf-8")
    assert read_status_file(path)["state"] == "stopped"


def test_listeners_get_the_current_snapshot_then_every_change_in_order() -> None:
    board = StatusBoard()
    seen: list[State] = []
    board.subscribe(lambda s: seen.append(s.state))
    board.transition(State.SYNCING)
    board.transition(State.OFFLINE, "The server cannot be reached.")
    board.transition(State.IDLE)
    wait_until(lambda: len(seen) == 4, "four snapshots")
    assert seen == [State.IDLE, State.SYNCING, State.OFFLINE, State.IDLE]


def test_an_unsubscribed_listener_hears_nothing_more() -> None:
    board = StatusBoard()
    seen: list[State] = []
    unsubscribe = board.subscribe(lambda s: seen.append(s.state))
    wait_until(lambda: len(seen) == 1)
    unsubscribe()
    board.transition(State.SYNCING)
    marker = threading.Event()
    board.subscribe(lambda s: marker.set())
    assert marker.wait(WAIT)
    assert seen == [State.IDLE]


def test_a_failing_listener_does_not_silence_the_others() -> None:
    board = StatusBoard()
    seen: list[State] = []

    def broken(snapshot: StatusSnapshot) -> None:
        raise RuntimeError("tray bug")

    board.subscribe(broken)
    board.subscribe(lambda s: seen.append(s.state))
    board.transition(State.SYNCING)
    wait_until(lambda: seen[-1:] == [State.SYNCING], "the healthy listener")


def test_a_listener_may_call_back_into_the_board() -> None:
    board = StatusBoard()
    done = threading.Event()

    def listener(snapshot: StatusSnapshot) -> None:
        if snapshot.state is State.OFFLINE:
            board.transition(State.IDLE)  # would deadlock if listeners ran under the lock
            done.set()

    board.subscribe(listener)
    board.transition(State.OFFLINE)
    assert done.wait(WAIT)


def test_transition_drops_progress_unless_given() -> None:
    board = StatusBoard()
    board.cycle_started()
    board.update(progress=Progress(files_done=1, files_total=2))
    assert board.snapshot().progress == Progress(files_done=1, files_total=2)
    board.transition(State.OFFLINE, "down")
    assert board.snapshot().progress is None
    assert str(board.snapshot().message) == "down"


def test_closing_marks_stopped_and_ignores_late_changes(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    board = StatusBoard(path)
    board.update(last_sync_at="2026-11-22T18:00:00+00:00")
    board.close()
    board.transition(State.SYNCING)
    assert board.snapshot().state is State.STOPPED
    data = read_status_file(path)
    assert data["state"] == "stopped"
    assert data["last_sync_at"] == "2026-11-22T18:00:00+00:00"


def test_wait_for_change_returns_on_a_change() -> None:
    board = StatusBoard()
    since = board.version
    threading.Timer(0.05, lambda: board.transition(State.SYNCING)).start()
    document = board.wait_for_change(since, timeout=WAIT)
    assert document["state"] == "syncing"
    assert document["version"] > since


def test_wait_for_change_returns_the_current_state_after_the_timeout() -> None:
    board = StatusBoard()
    document = board.wait_for_change(board.version, timeout=0.05)
    assert document["state"] == "idle"


def test_snapshots_survive_a_json_round_trip() -> None:
    snapshot = StatusSnapshot(
        state=State.SYNCING,
        message=fact(
            "{reason} Trying again at {time}.",
            reason=fact("Down."),
            time=datetime(2026, 11, 22, 18, tzinfo=UTC),
        ),
        progress=Progress(1, 2, 3, 4, "2026-11-24/a.mp4"),
        last_sync_at="2026-11-22T18:00:00+00:00",
        last_result=SyncResult(downloaded=1).to_json(),
        role="organizer",
        media_dir="/media",
        meetings=(MeetingSummary("2026-11-24", 3, 4),),
    )
    data = json.loads(json.dumps(snapshot_to_json(snapshot)))
    assert snapshot_from_json(data) == snapshot
