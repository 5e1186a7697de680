"""The disk fills during a download: a clear error, no partial file in a date folder, no space
kept by a partial file, and the sync recovers by itself once space returns.

The disk is a small real tmpfs (mounting needs root, as on CI). Where it cannot be mounted the
tmpfs tests skip, and the closest real equivalent still runs: a congsync process whose files may
not grow past a limit (RLIMIT_FSIZE), where the kernel refuses the write as it would on a full
disk.

Kept in tests/sync/test_member_cycle.py: test_a_full_disk_is_reported_and_loses_nothing (the
video is dropped from the server there; here the space comes back).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from davserver import DavFixture
from support import TUESDAY, Member, write_prefs

pytestmark = pytest.mark.timeout(60)


def _mount(where: Path, size: str) -> bool:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", f"congsync-test-{uuid.uuid4().hex}", where],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system, grown with `grow(...)`; unmounted afterwards."""
    where = tmp_path / "small"
    where.mkdir()
    if os.geteuid() != 0 or not _mount(where, "1m"):
        pytest.skip("cannot mount a small tmpfs here (needs root); see the RLIMIT_FSIZE test")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", where], check=False)


def grow(disk: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", disk], check=True)


def partials(media: Path) -> list[Path]:
    return list(media.rglob("*.part"))


def test_a_download_that_fills_the_disk_is_a_clear_error_and_recovers_when_space_returns(
    dav: DavFixture, small_disk: Path, tmp_path: Path
):
    write_prefs(dav)
    member = Member(dav, tmp_path / "m", media_dir=small_disk / "media")
    dav.put_file(f"Media/{TUESDAY}/small.jpg", b"s" * 1000)
    # here first: downloaded alongside the video, it could meet the full disk too
    assert member.sync().errors == []
    big = os.urandom(2 * 1024 * 1024)
    dav.put_file(f"Media/{TUESDAY}/big.mp4", big)

    result = member.sync()

    assert len(result.errors) == 1, result.errors
    assert "big.mp4" in result.errors[0] and "full" in result.errors[0]
    assert member.files(TUESDAY) == {"small.jpg": b"s" * 1000}
    assert partials(member.media) == []  # the space is given back

    grow(small_disk, "8m")
    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"small.jpg": b"s" * 1000, "big.mp4": big}


def test_a_new_version_that_does_not_fit_leaves_the_old_one_in_place(
    dav: DavFixture, small_disk: Path, tmp_path: Path
):
    write_prefs(dav)
    member = Member(dav, tmp_path / "m", media_dir=small_disk / "media")
    old = os.urandom(200 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", old)
    assert member.sync().errors == []
    new = os.urandom(2 * 1024 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", new)

    result = member.sync()

    assert any("video.mp4" in e and "full" in e for e in result.errors), result.errors
    assert member.files(TUESDAY) == {"video.mp4": old}
    assert partials(member.media) == []

    grow(small_disk, "8m")
    assert member.sync().errors == []
    assert member.files(TUESDAY) == {"video.mp4": new}


# -- the equivalent without a mount: a process whose files may not grow past a limit --------


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_process_that_may_not_write_more_reports_it_and_the_next_cycle_completes(
    dav: DavFixture, tmp_path: Path
):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()  # `congsync sync` runs on today
    write_prefs(dav)
    member = Member(dav, tmp_path / "m")
    dav.put_file(f"Media/{tomorrow}/small.jpg", b"s" * 1000)
    member.sync(today=date.today())  # the journal exists and is small: only media grows
    big = os.urandom(3 * 1024 * 1024)
    dav.put_file(f"Media/{tomorrow}/big.mp4", big)
    env = {k: v for k, v in os.environ.items() if k != "CONGSYNC_PASSWORD"}
    env.update(
        CONGSYNC_CONFIG=str(member.profile.paths.config_file),
        CONGSYNC_STATE_DIR=str(member.profile.paths.state_dir),
        CONGSYNC_PASSWORD=dav.password,
    )

    done = subprocess.run(
        [sys.executable, "-m", "daemon", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: _limit_file_size(1024 * 1024),
    )

    assert done.returncode != 0
    assert "big.mp4" in done.stdout + done.stderr
    assert "File too large" in done.stdout + done.stderr  # what the kernel said, passed on
    assert member.files(tomorrow) == {"small.jpg": b"s" * 1000}

    result = member.sync(today=date.today())  # the limit is gone: as when space returns

    assert result.errors == []
    assert member.files(tomorrow) == {"small.jpg": b"s" * 1000, "big.mp4": big}
