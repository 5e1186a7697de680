"""`congsync setup` in a terminal without flags asks its questions (a real pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
import tomllib
from pathlib import Path

import pytest
from davserver import DavFixture

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


def test_setup_asks_everything_in_a_terminal_and_saves_the_answers(dav: DavFixture, tmp_path: Path):
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
    ]
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes congsync setup on the terminal
        os.execve(
            sys.executable,
            [sys.executable, "-m", "daemon", "setup", "--ca-bundle", str(dav.ca_path)],
            env,
        )
    try:
        for prompt, answer in answers:
            read_until(fd, prompt)
            os.write(fd, answer.encode() + b"\r")
        read_until(fd, "Password")
        os.write(fd, dav.password.encode() + b"\r")
        output = read_until(fd, "Saved the configuration")
    finally:
        _pid, _status = os.waitpid(pid, 0)
        os.close(fd)

    assert "The connection works" in output
    assert "stored in the OS keyring" in output
    assert dav.password not in output  # not echoed
    saved = tomllib.loads(Path(env["CONGSYNC_CONFIG"]).read_text())
    assert saved["url"] == dav.base_url
    assert saved["folder"] == dav.folder
    assert saved["media_dir"] == str(tmp_path / "media")
