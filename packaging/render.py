"""Regenerate the packaging templates from daemon.autostart, so they never drift from the code.

Run `python packaging/render.py` after changing daemon/autostart.py; `--check` only compares
(the tests do the same). The interpreter paths are examples of where pipx puts congsync;
`congsync autostart on` writes the same files with the real paths of the computer it runs on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daemon.service.autostart import (
    autostart_entry,
    desktop_entry_text,
    systemd_entry,
)

HERE = Path(__file__).resolve().parent

# Example installations (pipx's default locations for a user called "volunteer").
LINUX_HOME = "/home/volunteer"
LINUX_PYTHON = "/home/volunteer/.local/share/pipx/venvs/congsync/bin/python"
MACOS_HOME = "/Users/volunteer"
MACOS_PYTHON = "/Users/volunteer/.local/pipx/venvs/congsync/bin/python"
WINDOWS_HOME = "C:\\Users\\volunteer"
WINDOWS_PYTHON = "C:\\Users\\volunteer\\pipx\\venvs\\congsync\\Scripts\\python.exe"


def render() -> dict[Path, str]:
    """Every template, keyed by its path under packaging/, with its exact content."""
    no_env: dict[str, str] = {}
    return {
        # For menus: `congsync` is on PATH after `pipx install`, so no interpreter path is needed.
        HERE / "linux" / "congsync.desktop": desktop_entry_text(
            ("congsync", "run"), None, autostart=False
        ),
        HERE / "linux" / "congsync.service": systemd_entry(
            interpreter=LINUX_PYTHON, env=no_env, home=LINUX_HOME
        ).content,
        HERE / "macos" / "org.congsync.agent.plist": autostart_entry(
            "macos", interpreter=MACOS_PYTHON, env=no_env, home=MACOS_HOME
        ).content,
        HERE / "windows" / "congsync-autostart.cmd": autostart_entry(
            "windows",
            interpreter=WINDOWS_PYTHON,
            env=no_env,
            home=WINDOWS_HOME,
            pythonw_available=True,
        ).content,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report templates out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, content in render().items():
        # Bytes, not text mode: the Windows template's CRLF line endings must survive both ways.
        current = path.read_bytes().decode("utf-8") if path.exists() else None
        if current == content:
            continue
        stale.append(path)
        if not args.check:
            path.write_bytes(content.encode("utf-8"))
    for path in stale:
        print(f"{'out of date' if args.check else 'written'}: {path.relative_to(HERE)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
