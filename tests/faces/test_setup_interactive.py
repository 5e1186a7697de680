"""`congsync setup` in a terminal without flags asks its questions (a real pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
import tomllib
from pathlib import Path

import pytest
from davserver import DavFixture
from support import write_prefs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def read_until(fd: int, text: str, timeout: float = 30.0) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"never saw {text!r}; got {seen.decode(errors='replace')!r}")
        ready, _w, _x = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


def setup_in_a_terminal(
    dav: DavFixture, tmp_path: Path, *more: tuple[str, str], until: str = "Saved the configuration"
) -> str:
    """Everything `congsync setup` printed on a terminal, answered as a member with a media
    folder in `tmp_path`, then the password, then each (prompt, answer) of `more`."""
    env = dict(os.environ)
    # The child process gets its own in-memory keyring: never the developer's real one.
    env["PYTHON_KEYRING_BACKEND"] = "memory_keyring.MemoryKeyring"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parent.parent), env.get("PYTHONPATH", "")]
    )
    answers = [
        ("server address", dav.base_url),
        ("Username", dav.username),
        ("Congregation folder", dav.folder),
        ("Local media folder", str(tmp_path / "media")),
        ("Role", "member"),
        ("Password", dav.password),
        *more,
    ]
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes congsync setup on the terminal
        os.execve(
            sys.executable,
            [sys.executable, "-m", "daemon", "setup", "--ca-bundle", str(dav.ca_path)],
            env,
        )
    transcript = ""
    try:
        for prompt, answer in answers:
            transcript += read_until(fd, prompt)
            os.write(fd, answer.encode() + b"\r")
        transcript += read_until(fd, until)
    finally:
        if os.waitpid(pid, os.WNOHANG) == (0, 0):  # still waiting for an answer: end it
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    return transcript


def test_setup_asks_everything_in_a_terminal_and_saves_the_answers(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)  # the congregation sets its meeting days: setup need not ask for them

    output = setup_in_a_terminal(dav, tmp_path)

    assert "The connection works" in output
    assert "stored in the OS keyring" in output
    assert dav.password not in output  # not echoed
    saved = tomllib.loads(Path(os.environ["CONGSYNC_CONFIG"]).read_text())
    assert saved["url"] == dav.base_url
    assert saved["folder"] == dav.folder
    assert saved["media_dir"] == str(tmp_path / "media")
