"""The tray icon on a real (virtual) X display: `congsync run` docks its icon, a click syncs.

One smoke test, end to end: Xvfb, a real system-tray host (trayer, or stalonetray where the
distribution still has it) and a real `congsync run` with pystray's Xorg backend, configured
against the real test WebDAV server. The test looks for the icon's window with python-xlib,
clicks it with XTest like a user's mouse would, and quits the daemon.

`.ci/run` installs Xvfb and trayer; without them the test is skipped and says why.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from davserver import DavFixture
from installation import TOMORROW, Installation

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the X11 tray smoke test runs on Linux"
)

pytest.importorskip("Xlib", reason="python-xlib (pystray's Xorg backend) is missing")
import Xlib.display  # noqa: E402
import Xlib.error  # noqa: E402
import Xlib.ext.xtest  # noqa: E402
import Xlib.X  # noqa: E402

# Generous: the machine may be a busy two-core runner starting several interpreters.
START_TIMEOUT = 30.0
CYCLE_TIMEOUT = 60.0
EXIT_TIMEOUT = 30.0

# What `TrayApp` names its icon; pystray's Xorg backend makes it the window's WM_CLASS.
ICON_CLASS = "congsync"

# Tray hosts that implement the freedesktop system tray (XEMBED) without a desktop around them.
TRAY_HOSTS: tuple[tuple[str, ...], ...] = (
    ("trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32"),
    ("stalonetray", "--geometry", "4x1+0+0", "--icon-size", "32"),
)


@dataclass
class VirtualDisplay:
    name: str  # ":N"
    display: Any  # our own python-xlib connection to it

    def tray_owner(self) -> Any:
        """The window owning the system-tray selection, or None."""
        screen = self.display.get_default_screen()
        atom = self.display.intern_atom(f"_NET_SYSTEM_TRAY_S{screen}")
        owner = self.display.get_selection_owner(atom)
        return None if owner in (None, Xlib.X.NONE) else owner

    def find_icon(self) -> Any:
        """congsync's tray-icon window, wherever it sits in the window tree, or None."""
        pending = [self.display.screen().root]
        while pending:
            window = pending.pop()
            try:
                wm_class = window.get_wm_class()
                if (
                    wm_class
                    and wm_class[1] == ICON_CLASS
                    and wm_class[0].endswith("SystemTrayIcon")
                ):
                    return window
                pending.extend(window.query_tree().children)
            except Xlib.error.XError:
                continue  # a window that went away while we looked
        return None

    def describe(self) -> str:
        """Where the icon's window is, for a failure message."""
        icon = self.find_icon()
        if icon is None:
            return f"no icon window; tray owner {self.tray_owner()}"
        try:
            tree = icon.query_tree()
            attributes = icon.get_attributes()
            geometry = icon.get_geometry()
        except Xlib.error.XError as exc:
            return f"icon window {icon.id:#x}: {exc}"
        return (
            f"icon window {icon.id:#x}, parent {tree.parent.id:#x} (root {tree.root.id:#x}), "
            f"map state {attributes.map_state}, {geometry.width}x{geometry.height}"
            f"+{geometry.x}+{geometry.y}; tray owner {self.tray_owner()}"
        )

    def docked_icon(self) -> Any:
        """The icon's window once a tray host has embedded and shown it, else None."""
        icon = self.find_icon()
        if icon is None:
            return None
        try:
            root = self.display.screen().root
            parent = icon.query_tree().parent
            viewable = icon.get_attributes().map_state == Xlib.X.IsViewable
            geometry = icon.get_geometry()
        except Xlib.error.XError:
            return None
        if parent == root or not viewable or geometry.width < 8 or geometry.height < 8:
            return None
        return icon

    def click(self, window: Any, button: int = 1) -> None:
        """Move the pointer to the middle of `window` and click, through XTest (a real click)."""
        geometry = window.get_geometry()
        root = self.display.screen().root
        # `root.translate_coords(window, …)` maps a point from the window's coordinates to the root's.
        position = root.translate_coords(window, geometry.width // 2, geometry.height // 2)
        x, y = position.x, position.y
        Xlib.ext.xtest.fake_input(self.display, Xlib.X.MotionNotify, x=x, y=y)
        self.display.sync()
        time.sleep(0.2)
        Xlib.ext.xtest.fake_input(self.display, Xlib.X.ButtonPress, button)
        self.display.sync()
        time.sleep(0.1)
        Xlib.ext.xtest.fake_input(self.display, Xlib.X.ButtonRelease, button)
        self.display.sync()


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def bounded_wait(
    condition: Callable[[], Any], timeout: float, what: str, details: Callable[[], str] = str
) -> Any:
    """`condition()` once true; else fails saying `what` and then `details()`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} (waited {timeout:.0f} s)\n{details()}")


def connect(name: str) -> Any:
    try:
        return Xlib.display.Display(name)
    except Exception:  # not listening yet: python-xlib raises several kinds here
        return None


def owner_of(number: int) -> int | None:
    """The process id in an X server's lock file for display `number`, if any."""
    try:
        return int(Path(f"/tmp/.X{number}-lock").read_text().strip())
    except (OSError, ValueError):
        return None


def start_xvfb(stack: ExitStack, log_dir: Path) -> VirtualDisplay:
    """Xvfb on the first free display from :90 up; cleaned up by `stack`."""
    for number in range(90, 140):
        if Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists():
            continue
        name = f":{number}"
        log = stack.enter_context((log_dir / f"xvfb{number}.log").open("wb"))
        process = subprocess.Popen(
            ["Xvfb", name, "-screen", "0", "800x600x24", "-nolisten", "tcp"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(stop_process, process)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            # Our server, not one that another run started on the same number just before.
            if owner_of(number) == process.pid and (display := connect(name)) is not None:
                stack.callback(display.close)
                return VirtualDisplay(name, display)
            time.sleep(0.2)
        # Another server took the number first (or this one could not start): try the next.
        stop_process(process)
    pytest.fail("Xvfb did not start on any display from :90 to :139")


def start_tray_host(
    stack: ExitStack, screen: VirtualDisplay, env: dict[str, str], log_dir: Path
) -> str:
    host = next(command for command in TRAY_HOSTS if shutil.which(command[0]))
    log = stack.enter_context((log_dir / f"{host[0]}.log").open("wb"))
    process = subprocess.Popen(
        list(host), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
    )
    stack.callback(stop_process, process)
    bounded_wait(screen.tray_owner, START_TIMEOUT, f"{host[0]} never took the system tray")
    return host[0]


@pytest.fixture
def x_session(tmp_path: Path) -> Iterator[tuple[VirtualDisplay, dict[str, str]]]:
    """Xvfb plus a tray host; yields the display and the environment for clients of it."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (.ci/run installs it: apt-get install xvfb)")
    if not any(shutil.which(command[0]) for command in TRAY_HOSTS):
        pytest.skip("no system-tray host is installed (.ci/run installs trayer)")
    log_dir = tmp_path / "x-logs"
    log_dir.mkdir()
    with ExitStack() as stack:
        screen = start_xvfb(stack, log_dir)
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XAUTHORITY")}
        env.update(DISPLAY=screen.name, PYSTRAY_BACKEND="xorg")
        start_tray_host(stack, screen, env, log_dir)
        yield screen, env


def test_the_tray_icon_docks_a_click_syncs_now_and_stop_closes_it(
    dav: DavFixture, tmp_path: Path, x_session: tuple[VirtualDisplay, dict[str, str]]
) -> None:
    screen, x_env = x_session
    installation = Installation(dav, tmp_path / "inst")
    installation.env.update(DISPLAY=x_env["DISPLAY"], PYSTRAY_BACKEND=x_env["PYSTRAY_BACKEND"])
    installation.env.pop("WAYLAND_DISPLAY", None)
    installation.env["LANGUAGE"] = "C"  # untranslated tooltips, whatever the machine's locale
    # If it hangs, SIGABRT makes it print every thread's stack (see `hung`) before it dies.
    installation.env["PYTHONFAULTHANDLER"] = "1"
    output_path = tmp_path / "congsync-run.log"
    with output_path.open("wb") as output:
        # Without --no-tray: `run_tray_or_headless` shows the icon on the main thread.
        process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "--interval", "3600"],
            env=installation.env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def output_text() -> str:
        return output_path.read_text(errors="replace")

    def hung() -> str:
        """Its output, with the stacks of all its threads."""
        process.send_signal(signal.SIGABRT)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        return output_text()

    def docked_while_running() -> Any:
        if process.poll() is not None:
            raise AssertionError(f"congsync run exited early:\n{output_text()}")
        return screen.docked_icon()

    try:
        # The icon comes up: its window exists, and the tray host embedded and mapped it.
        icon = bounded_wait(
            docked_while_running,
            START_TIMEOUT,
            "the tray icon never docked",
            lambda: f"{screen.describe()}\ncongsync said:\n{hung()}",
        )
        assert process.poll() is None, output_text()
        assert "No system tray available" not in output_text()
        status = installation.wait_state("idle", timeout=CYCLE_TIMEOUT)
        assert status["cycles_finished"] >= 1
        # The tray follows the daemon: the icon's tooltip (its window's name) tells the state.
        bounded_wait(
            lambda: (icon.get_wm_name() or "").startswith("Up to date"),
            START_TIMEOUT,
            "the icon's tooltip never said the folder is up to date",
            lambda: repr(icon.get_wm_name()),
        )

        # Sync now through the icon: the Xorg backend runs the default action on a left click.
        dav.put_file(f"Media/{TOMORROW}/clicked.jpg", b"clicked")
        before = installation.status()["cycles_finished"]
        screen.click(icon)
        bounded_wait(
            lambda: installation.status()["cycles_finished"] > before,
            CYCLE_TIMEOUT,
            "clicking the icon started no sync; congsync said:",
            hung,
        )
        assert installation.member.files(TOMORROW) == {"clicked.jpg": b"clicked"}
        installation.wait_state("idle", timeout=CYCLE_TIMEOUT)

        # Quit. pystray's Xorg backend has no menu (HAS_MENU is False), so the tray's own Quit
        # item cannot be reached with the mouse here. `congsync stop` is the next most faithful
        # path: it reaches the daemon's `quit()`, the same call the menu's Quit ends in, and the
        # tray must then see the "stopped" snapshot, close its icon and let the process exit.
        done = installation.cli("stop", timeout=EXIT_TIMEOUT)
        assert done.returncode == 0, done.stderr
        try:
            process.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"congsync run did not exit after stop; it said:\n{hung()}")
        assert process.returncode == 0, output_text()
        bounded_wait(
            lambda: screen.find_icon() is None, START_TIMEOUT, "the icon window outlived congsync"
        )
        assert installation.status()["state"] == "stopped"
    finally:
        stop_process(process)  # only left running when the test failed midway
