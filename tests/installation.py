"""A configured congsync driven as separate processes through its command line (for end-to-end tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from davserver import DavFixture
from support import Member, write_prefs

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met within the time limit")


class Installation:
    """A configured congsync on this machine, driven through its command line."""

    def __init__(self, dav: DavFixture, home: Path) -> None:
        write_prefs(dav)
        self.member = Member(dav, home)
        self.env = {k: v for k, v in os.environ.items() if k != "CONGSYNC_PASSWORD"}
        self.env.update(
            CONGSYNC_CONFIG=str(self.member.profile.paths.config_file),
            CONGSYNC_STATE_DIR=str(self.member.profile.paths.state_dir),
            CONGSYNC_PASSWORD=dav.password,
        )
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, *extra: str, tray: bool = False) -> subprocess.Popen[str]:
        """`congsync run --no-tray`; with `tray`, a plain `congsync run` (a desktop's start)."""
        no_tray = () if tray else ("--no-tray",)
        process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", *no_tray, *extra],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "daemon", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def status(self) -> dict[str, Any]:
        done = self.cli("status", "--json")
        assert done.returncode == 0, done.stderr
        data: dict[str, Any] = json.loads(done.stdout)
        return data

    def wait_state(self, state: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for `state`; "idle" means idle after a finished cycle (a daemon that has just
        started is idle too, before its first cycle)."""

        last: dict[str, Any] = {}

        def reached() -> dict[str, Any] | None:
            status = self.status()
            last.update(status)
            if status["state"] != state:
                return None
            if state == "idle" and not status.get("cycles_finished"):
                return None
            return status

        try:
            result: dict[str, Any] = wait_until(reached, timeout)
        except AssertionError:
            raise AssertionError(
                f"not {state} within {timeout} s; last: state={last.get('state')!r} "
                f"message={last.get('message')!r} cycles={last.get('cycles_finished')}"
            ) from None
        return result

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
