"""Runs the tray icon on the main thread and carries the daemon's status to it along one queue."""

# Threading, in one place
# -----------------------
# pystray's event loop owns the main thread (`TrayApp.run`). The daemon calls our listener from
# its worker threads; the listener only puts the snapshot on `TrayApp._events`, an unbounded
# queue, so it never blocks and never touches the icon. One updater thread (pystray's `setup`
# callback) is the only code that reads that queue and changes the icon: image, tooltip, menu,
# notifications and the syncing animation. Menu clicks arrive on the event-loop thread and go
# straight to `dispatch` (the daemon's commands return at once), except Quit, which may wait
# seconds for transfers to wind down and so runs on its own thread; the icon then says
# "Stopping…" until the daemon's last snapshot says "stopped" (or `_QUIT_GRACE` runs out).
# The control panel's entries hand the browser its one-time address from a thread of their
# own too, since some browsers' launchers return only once the browser closes.
#
# pystray has no portable "run this on the main thread", so how safe the updater's calls are
# depends on the backend:
# - GTK and AppIndicator (Linux): pystray itself schedules every change on the GLib main loop.
# - Xorg (Linux, no GObject): pystray forwards every change to its event-loop thread; its
#   window would not even receive clicks without `_listen_for_xorg_clicks`. Two threads
#   then share one python-xlib connection, and python-xlib's threaded mode can lose a wake-up:
#   a request stays queued unsent, or a thread waits for a reply that no thread reads, and the
#   icon freezes (clicks ignored, the updater blocked, Quit never closing it). While the icon
#   runs, `TrayApp._keep_xorg_flowing` flushes the connection from a third thread twice a
#   second, which sends what is queued and wakes whoever waits; `TrayApp._unstick_xorg` does
#   the same for the icon's close.
# - Windows: Shell_NotifyIcon may be called from any thread. The one race left is pystray
#   replacing the native menu while it is open (a click on the old menu is then looked up in
#   the new one). We replace the menu only when its model changed, at once when actions moved
#   (a state change) but at most once a second when only wording changed, so the window is
#   small and, in the common case, a click still lands on the same action.
# - macOS: AppKit must only be touched from the main thread, and pystray's Darwin backend does
#   not take care of it. There the updater hands each change to the main run loop with PyObjC's
#   `AppHelper.callAfter` (see `_main_thread_caller`), which pystray already depends on there.

from __future__ import annotations

import importlib
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Final

from PIL import Image

from daemon.errors import CongsyncError, TrayUnavailable
from daemon.i18n import _, current_language
from daemon.service.protocol import DaemonControl
from daemon.service.status import State, StatusSnapshot
from tray.icons import icon_frames, render_icon
from tray.menu import Action, MenuItem, build_menu, tooltip
from tray.notify import notifications_for

log = logging.getLogger(__name__)

#: Every backend rescales the image it gets (Windows builds a 16–64 px .ico from it), and our
#: drawing is proportional, so the largest rendering is the one that loses least.
TRAY_ICON_SIZE: Final = 64
ANIMATION_FPS: Final = 4
# Tooltips like "retrying in 2 min" or "yesterday 14:02" go stale without any new status.
_REFRESH_SECONDS: Final = 15.0
# Replacing a native menu while it is open is the least safe change we make (see the top), so
# wording-only changes, frequent while syncing, are held back to at most one per interval.
_MENU_WORDING_INTERVAL: Final = 1.0
_UNSTICK_ATTEMPTS: Final = 10  # half a second apart
_XORG_FLUSH_INTERVAL: Final = 0.5
# After Quit the icon says "Stopping…" until the daemon reports "stopped", at most this long.
_QUIT_GRACE: Final = 15.0
# Progress is shown in this many steps: enough to see it move, few enough to cache the images.
_PROGRESS_STEPS: Final = 32
# Windows balloon limits (szInfoTitle, szInfo); longer text makes pystray raise.
_NOTIFY_TITLE_LIMIT: Final = 63
_NOTIFY_MESSAGE_LIMIT: Final = 255


Opener = Callable[[Path, bool], None]
#: Shows an address in the user's web browser; False when no browser could be started.
Browser = Callable[[str], bool]


def local_now() -> datetime:
    """The current local time, timezone-aware."""
    return datetime.now().astimezone()


def pause_until(action: str, now: datetime) -> datetime | None:
    """When a pause chosen from the menu ends; None means "until resumed".

    "Until tomorrow" ends at the next local midnight: the label promises a new day, and a
    computer left on overnight is up to date again by morning.
    """
    if action == Action.PAUSE_HOUR:
        return now + timedelta(hours=1)
    if action == Action.PAUSE_TOMORROW:
        local = now.astimezone()
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
        return midnight.astimezone()  # the system zone, including a daylight-saving change
    if action == Action.PAUSE_INDEFINITE:
        return None
    raise ValueError(f"not a pause action: {action}")


def opener_command(path: Path, edit: bool, platform: str) -> list[str] | None:
    """The command that shows `path` (in a text editor when `edit`); None: use `os.startfile`."""
    if platform == "win32":
        # Windows knows no application for .toml files, but every Windows has Notepad.
        return ["notepad.exe", str(path)] if edit else None
    if platform == "darwin":
        return ["open", "-t", str(path)] if edit else ["open", str(path)]
    return ["xdg-open", str(path)]


def open_path(path: Path, edit: bool = False) -> None:
    """Show `path` with the desktop's own application, without waiting for it.

    Raises OSError when nothing could be started.
    """
    command = opener_command(path, edit, sys.platform)
    if command is None:
        if sys.platform == "win32":  # spelled out again so that type checkers see os.startfile
            os.startfile(path)  # noqa: S606 (our own path, opened by its association)
        return
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl+C in congsync's terminal must not close the user's editor
    )
    # Reap it when it exits, so that no zombie is left behind on POSIX.
    threading.Thread(target=process.wait, name="congsync-opener", daemon=True).start()


def has_desktop(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether congsync runs in a graphical session (always on Windows and macOS; on Linux and
    the BSDs when DISPLAY or WAYLAND_DISPLAY is set)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    return platform in ("win32", "darwin") or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def tray_available(
    env: Mapping[str, str] | None = None, platform: str | None = None
) -> tuple[bool, str]:
    """Whether a tray icon can be shown: (True, backend name) or (False, the reason, in words)."""
    if not has_desktop(env, platform):
        return (False, _("no graphical session: neither DISPLAY nor WAYLAND_DISPLAY is set"))
    try:
        pystray = _import_pystray()
    except TrayUnavailable as exc:
        return (False, exc.message)
    return (True, _backend_name(pystray))


def run_tray_or_headless(
    control: DaemonControl,
    *,
    headless_wait: Callable[[], None],
    say: Callable[[str], None] | None = None,
    media_dir: Path | None = None,
    organizer_dir: Path | None = None,
    log_file: Path | None = None,
    notifications_enabled: bool = True,
) -> bool:
    """Show the tray until Quit, or say once that there is none and wait headless instead.

    Must be called on the main thread, with the daemon started. Returns whether the tray was
    shown. After a tray, the daemon has been asked to quit (or has stopped) and the caller
    finishes stopping it; headless, `headless_wait` (e.g. `Daemon.run_forever`) decides when
    this returns.
    """
    available, reason = tray_available()
    if available:
        if tray_host_missing(reason):
            # The icon still runs (a panel started after congsync at login docks it then),
            # but the user hears once why there is none and how to get one.
            (say or _say_on_stderr)(
                _(
                    "Nothing on this desktop shows tray icons, so congsync runs without its icon "
                    "for now. To get one: on GNOME, turn on the “AppIndicator and "
                    "KStatusNotifierItem Support” extension; elsewhere, add a panel with a "
                    "system tray."
                )
            )
        app = TrayApp(
            control,
            media_dir=media_dir,
            organizer_dir=organizer_dir,
            log_file=log_file,
            notifications_enabled=notifications_enabled,
        )
        try:
            app.run()
        except TrayUnavailable as exc:
            reason = exc.message
        else:
            return True
    (say or _say_on_stderr)(
        _("No system tray available ({reason}); running without it.").format(reason=reason)
    )
    headless_wait()
    return False


def tray_host_missing(backend: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether nothing on this desktop shows tray icons, as far as can be told (False when a
    tray host is there or when it cannot be told). `backend` is pystray's, as `tray_available`
    names it."""
    env = os.environ if env is None else env
    if backend in ("xorg", "gtk"):  # icons embedded in an X system tray (XEMBED)
        return _xembed_tray_present(env) is False
    if backend == "appindicator":  # StatusNotifierItem, or XEMBED where no watcher runs
        return _status_notifier_watcher_present() is False and _xembed_tray_present(env) is False
    return False


def _xembed_tray_present(env: Mapping[str, str]) -> bool | None:
    """Whether a program owns the X display's system-tray selection; None: cannot tell."""
    name = env.get("DISPLAY")
    if not name:
        return None
    try:
        xdisplay = importlib.import_module("Xlib.display")
        x = importlib.import_module("Xlib.X")
        display = xdisplay.Display(name)
    except Exception:
        log.debug("cannot look for a system tray on %s", name, exc_info=True)
        return None
    try:
        atom = display.intern_atom(f"_NET_SYSTEM_TRAY_S{display.get_default_screen()}")
        owner = display.get_selection_owner(atom)
        return owner not in (None, x.NONE)
    except Exception:
        log.debug("cannot look for a system tray on %s", name, exc_info=True)
        return None
    finally:
        display.close()


def _status_notifier_watcher_present() -> bool | None:
    """Whether the session bus has a StatusNotifierWatcher (the AppIndicator host); None:
    cannot tell. Only asked with the AppIndicator backend, which brings GObject (gi) along."""
    try:
        gio = importlib.import_module("gi.repository.Gio")
        glib = importlib.import_module("gi.repository.GLib")
        bus = gio.bus_get_sync(gio.BusType.SESSION, None)
        answer = bus.call_sync(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            glib.Variant("(s)", ("org.kde.StatusNotifierWatcher",)),
            glib.VariantType("(b)"),
            gio.DBusCallFlags.NONE,
            2000,
            None,
        )
        return bool(answer.unpack()[0])
    except Exception:
        log.debug("cannot ask the session bus for a StatusNotifierWatcher", exc_info=True)
        return None


@dataclass(frozen=True)
class _Notice:
    title: str
    message: str


class _Marker:
    """A queue entry that is neither a snapshot nor a notice."""

    def __init__(self, name: str) -> None:
        self.name = name


_STOPPING: Final = _Marker("stopping")  # Quit was chosen; the daemon is winding down
_CLOSE: Final = _Marker("close")  # end the icon's event loop

_Event = StatusSnapshot | _Notice | _Marker


@dataclass
class _Shown:
    """What the icon currently shows, so that only changes reach the platform."""

    image_key: tuple[State, int, float | None] | None = None
    title: str | None = None
    menu: tuple[MenuItem, ...] | None = None
    menu_at: float = 0.0  # time.monotonic() of the last menu replacement
    language: str = ""  # the language the menu is in


class TrayApp:
    """The tray icon of one running daemon: shows its status and sends it the user's commands."""

    def __init__(
        self,
        control: DaemonControl,
        *,
        media_dir: Path | None = None,
        organizer_dir: Path | None = None,
        log_file: Path | None = None,
        notifications_enabled: bool = True,
        clock: Callable[[], datetime] = local_now,
        opener: Opener = open_path,
        browser: Browser = webbrowser.open,
        name: str = "congsync",
    ) -> None:
        """`media_dir` and `organizer_dir` default to the ones the status reports."""
        self._control = control
        self._media_dir = media_dir
        self._organizer_dir = organizer_dir
        self._log_file = log_file
        self._notifications_enabled = notifications_enabled
        self._clock = clock
        self._opener = opener
        self._browser = browser
        self._name = name
        self._events: queue.Queue[_Event] = queue.Queue()
        self._latest: StatusSnapshot | None = None
        self._quit_lock = threading.Lock()
        self._quit_requested = False
        self._loop_ended = threading.Event()
        self._icon: Any = None
        self._backend = ""
        #: Set once the icon is visible and the updater runs (for the display smoke test).
        self.ready = threading.Event()

    # --- commands ---------------------------------------------------------------------------

    def dispatch(self, action: str) -> None:
        """Carry out one menu action (an `Action` value); raises ValueError for unknown ones."""
        match Action(action):
            case Action.OPEN_PANEL:
                self._open_panel("/status")
            case Action.SYNC_NOW:
                self._control.sync_now()
            case Action.CONFIRM_REMOVALS:
                self._control.sync_now(accept_deletions=True)
            case Action.PAUSE_HOUR | Action.PAUSE_TOMORROW | Action.PAUSE_INDEFINITE:
                self._control.pause(pause_until(action, self._clock()))
            case Action.RESUME:
                self._control.resume()
            case Action.OPEN_MEDIA:
                self._open(self._media_dir or _path(self._status_field("media_dir")))
            case Action.OPEN_ORGANIZER:
                self._open(self._organizer_dir or _path(self._status_field("organizer_dir")))
            case Action.MANAGE_MEDIA:
                self._open_panel("/media")
            case Action.SETTINGS:
                self._open_panel("/setup")
            case Action.VIEW_LOG:
                self._open(self._log_file, edit=True)
            case Action.QUIT:
                self._quit()

    def close(self) -> None:
        """End the icon's event loop now, from any thread; `run` then asks the daemon to quit."""
        self._events.put(_CLOSE)

    @property
    def icon(self) -> Any:
        """The pystray icon while `run` runs, else None."""
        return self._icon

    # --- the icon ---------------------------------------------------------------------------

    def run(self) -> None:
        """Show the icon and block until Quit, or until the daemon stops by itself.

        On return the daemon has been asked to quit. Raises TrayUnavailable when no icon can
        be created here (before anything was shown or subscribed).
        """
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("the tray icon must run on the main thread")
        pystray = _import_pystray()
        backend = self._backend = _backend_name(pystray)
        initial = self._control.snapshot()
        self._latest = initial
        now = self._clock()
        try:
            icon = pystray.Icon(
                self._name,
                icon=_tray_image(*_image_key(initial)),
                title=_fit_title(tooltip(initial, now), backend),
                menu=self._native_menu(pystray, build_menu(initial, now)),
            )
        except Exception as exc:
            # The backend imported but cannot start (no tray host, D-Bus refused, …).
            log.exception("the tray icon could not be created")
            raise TrayUnavailable(str(exc) or type(exc).__name__) from exc
        if backend == "xorg":
            _listen_for_xorg_clicks(icon)
            threading.Thread(
                target=self._keep_xorg_flowing,
                args=(icon,),
                name="congsync-xorg-flush",
                daemon=True,
            ).start()
        if not icon.HAS_MENU:
            log.warning(
                "this tray backend (%s) shows no menu; clicking the icon syncs now or resumes",
                backend,
            )
        self._icon = icon
        unsubscribe = self._control.subscribe(self._on_status)
        # Without a tray host (yet) the Xorg backend logs a traceback on every update; that
        # there is none has been said in one sentence (`run_tray_or_headless`).
        pystray_log = logging.getLogger("pystray._base")
        once = _OnceFilter()
        undocked = _DockFailureFilter()
        pystray_log.addFilter(undocked)
        pystray_log.addFilter(once)
        try:
            icon.run(setup=partial(self._update_loop, pystray, initial))
        finally:
            pystray_log.removeFilter(once)
            pystray_log.removeFilter(undocked)
            self._loop_ended.set()
            self._events.put(_CLOSE)  # the updater may still wait on the queue
            self._icon = None
            if callable(unsubscribe):
                unsubscribe()
            latest = self._latest
            if latest is None or latest.state is not State.STOPPED:
                self._quit()

    def _on_status(self, snapshot: StatusSnapshot) -> None:
        """The daemon's listener: any thread, must not block."""
        self._latest = snapshot
        if not self._loop_ended.is_set():
            self._events.put(snapshot)

    def _update_loop(self, pystray: Any, initial: StatusSnapshot, icon: Any) -> None:
        """The updater thread: the only code that changes the icon after it is shown."""
        on_main = _main_thread_caller()
        on_main(partial(setattr, icon, "visible", True))
        self.ready.set()
        shown = _Shown(
            image_key=_image_key(initial),
            title=icon.title,
            menu=build_menu(initial, self._clock()),
            language=current_language(),
        )
        current = initial
        notices = [
            _Notice(*n) for n in notifications_for(None, initial, self._notifications_enabled)
        ]
        stopping = False
        stop_by: float | None = None  # after Quit: when to close even without "stopped"
        # A daemon that is not started yet also reads as stopped: only leave once it has run.
        has_run = initial.state is not State.STOPPED
        menu_due: float | None = None
        while True:
            for notice in notices:
                self._show_notice(icon, notice)
            if current.state is State.STOPPED and has_run:
                break
            timeout = 1 / ANIMATION_FPS if current.state is State.SYNCING else _REFRESH_SECONDS
            if menu_due is not None:
                timeout = min(timeout, menu_due)
            if stop_by is not None:
                timeout = min(timeout, max(0.0, stop_by - time.monotonic()))
            events = self._wait_for_events(timeout)
            if _CLOSE in events:
                break
            notices = []
            for event in events:
                if isinstance(event, StatusSnapshot):
                    notices.extend(
                        _Notice(*n)
                        for n in notifications_for(current, event, self._notifications_enabled)
                    )
                    current = event
                    has_run = has_run or current.state is not State.STOPPED
                elif isinstance(event, _Notice):
                    notices.append(event)
                elif event is _STOPPING and not stopping:
                    stopping = True
                    stop_by = time.monotonic() + _QUIT_GRACE
            if stop_by is not None and time.monotonic() >= stop_by:
                log.warning("the daemon did not report that it stopped; closing the tray anyway")
                break
            try:
                menu_due = self._apply(pystray, icon, on_main, current, stopping, shown)
            except Exception:
                # A failed update must not end the updater: the next one may well succeed.
                log.exception("the tray icon could not be updated")
        if not self._loop_ended.is_set():
            on_main(icon.stop)
            self._unstick_xorg(icon)

    def _keep_xorg_flowing(self, icon: Any) -> None:
        """Flush the Xorg backend's connection every `_XORG_FLUSH_INTERVAL` until the loop ends.

        python-xlib's threaded mode can leave a request queued unsent, or a thread waiting on
        a lock that only a finished send-and-receive releases (a sender that sees data to read
        returns without waking the waiters). pystray's event loop and our updater share one
        connection, so that freezes the icon. A flush from here runs a send-and-receive to its
        end: it sends what is queued and wakes the waiters. While all is well it returns at
        once, without a system call (the event loop is the one receiving).
        """
        flush = getattr(getattr(icon, "_display", None), "flush", None)
        if not callable(flush):
            return
        while not self._loop_ended.wait(_XORG_FLUSH_INTERVAL):
            try:
                flush()
            except Exception:
                # The connection is closed or broken; the event loop is ending or has failed.
                log.debug("could not flush the tray icon's display", exc_info=True)
                return

    def _unstick_xorg(self, icon: Any) -> None:
        """Make sure pystray's Xorg event loop sees its window go.

        With two threads flushing one connection (python-xlib's threaded mode), the request
        that destroys the icon's window can stay queued unsent, and the loop then waits for
        that window's end forever. Flushing once more sends it. Only the Xorg backend has a
        `_display`; elsewhere this returns at once.
        """
        flush = getattr(getattr(icon, "_display", None), "flush", None)
        if not callable(flush):
            return
        for _attempt in range(_UNSTICK_ATTEMPTS):
            if self._loop_ended.wait(0.5):
                return
            log.debug("the Xorg tray loop has not ended yet; flushing its display again")
            flush()
        log.warning("the tray icon's event loop did not end")

    def _wait_for_events(self, timeout: float) -> list[_Event]:
        """Everything queued, waiting up to `timeout` seconds for the first entry."""
        try:
            events = [self._events.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    def _apply(
        self,
        pystray: Any,
        icon: Any,
        on_main: Callable[[Callable[[], object]], None],
        status: StatusSnapshot,
        stopping: bool,
        shown: _Shown,
    ) -> float | None:
        """Bring the icon up to date; returns in how many seconds a held-back menu is due."""
        # Each change counts as shown even if the platform refused it: retrying the same
        # refusal four times a second would only fill the log.
        now = self._clock()
        image_key = _image_key(status)
        if image_key != shown.image_key:
            shown.image_key = image_key
            _change(on_main, partial(setattr, icon, "icon", _tray_image(*image_key)), "image")
        words = _("Stopping…") if stopping else tooltip(status, now)
        title = _fit_title(words, self._backend)
        if title != shown.title:
            shown.title = title
            _change(on_main, partial(setattr, icon, "title", title), "tooltip")
        # Read once, before the menu is made: a switch while it is made relabels it next time.
        language = current_language()
        model = (MenuItem(words, None, enabled=False),) if stopping else build_menu(status, now)
        if model == shown.menu:
            return None
        relabelled = shown.language != language  # a new language: at once
        if not relabelled and _menu_shape(model) == _menu_shape(shown.menu):
            # Only wording changed ("3 of 12 files"): replace a menu at most once a second.
            wait = shown.menu_at + _MENU_WORDING_INTERVAL - time.monotonic()
            if wait > 0:
                return wait
        shown.menu = model
        shown.menu_at = time.monotonic()
        shown.language = language
        _change(on_main, partial(setattr, icon, "menu", self._native_menu(pystray, model)), "menu")
        return None

    def _show_notice(self, icon: Any, notice: _Notice) -> None:
        if not icon.HAS_NOTIFICATION:
            return
        # Not marshalled to the main thread: no backend's notify touches the menu bar or tray
        # objects (D-Bus on Linux, Shell_NotifyIcon on Windows, osascript on macOS).
        try:
            icon.notify(
                _clip(notice.message, _NOTIFY_MESSAGE_LIMIT),
                _clip(notice.title, _NOTIFY_TITLE_LIMIT),
            )
        except Exception:
            log.exception("a notification could not be shown")

    def _native_menu(self, pystray: Any, items: tuple[MenuItem, ...]) -> Any:
        entries: list[Any] = []
        for item in items:
            if item.is_separator:
                entries.append(pystray.Menu.SEPARATOR)
            elif item.submenu:
                entries.append(
                    pystray.MenuItem(
                        item.label,
                        self._native_menu(pystray, item.submenu),
                        enabled=item.enabled,
                    )
                )
            else:
                entries.append(
                    pystray.MenuItem(
                        item.label,
                        self._menu_callback(item.action) if item.action else None,
                        checked=_always_checked if item.checked else None,
                        default=item.default,
                        enabled=item.enabled,
                    )
                )
        return pystray.Menu(*entries)

    def _menu_callback(self, action: str) -> Callable[[Any, Any], None]:
        def on_click(icon: Any, item: Any) -> None:
            if action == Action.QUIT:
                # The daemon's quit may wait for the stop; keep the event loop responsive.
                threading.Thread(
                    target=self._dispatch_reporting, args=(action,), name="congsync-quit"
                ).start()
            else:
                self._dispatch_reporting(action)

        return on_click

    def _dispatch_reporting(self, action: str) -> None:
        """`dispatch` for clicks: a failure becomes a notification instead of an exception."""
        try:
            self.dispatch(action)
        except CongsyncError as exc:
            self._events.put(_Notice(_("congsync"), exc.message))
        except Exception:
            log.exception("the menu action %s failed", action)
            self._events.put(
                _Notice(_("congsync"), _("That did not work. The log has the details."))
            )

    def _quit(self) -> None:
        """Ask the daemon to quit, once; the icon stays ("Stopping…") until it says "stopped"."""
        with self._quit_lock:
            if self._quit_requested:
                return
            self._quit_requested = True
        self._events.put(_STOPPING)
        self._control.quit()

    def _open_panel(self, page: str) -> None:
        """Sign the browser in to `page` of the control panel with a one-time address.

        The browser is started on a thread of its own: some (a BROWSER command, a GenericBrowser
        in Python's terms) only return once the browser is closed, and the menu must not wait.
        """
        url = self._control.panel_url(page)
        if url is None:
            self._events.put(
                _Notice(_("Cannot open congsync"), _("congsync is not running at the moment."))
            )
            return
        threading.Thread(
            target=self._browse, args=(url,), name="congsync-browser", daemon=True
        ).start()

    def _browse(self, url: str) -> None:
        try:
            opened = self._browser(url)
        except (OSError, webbrowser.Error) as exc:
            log.warning("could not start a web browser: %s", exc)
            opened = False
        if not opened:
            self._events.put(
                _Notice(
                    _("Cannot open congsync"),
                    _(
                        "No web browser could be started. In a terminal, “congsync open "
                        "--print-url” prints an address to open in your browser."
                    ),
                )
            )

    def _open(self, path: Path | None, edit: bool = False) -> None:
        if path is None:
            self._events.put(
                _Notice(_("Cannot open it"), _("congsync does not know where it is yet."))
            )
            return
        if not path.exists():
            self._events.put(
                _Notice(
                    _("Cannot open it"),
                    _("{path} does not exist yet.").format(path=path),
                )
            )
            return
        try:
            self._opener(path, edit)
        except OSError as exc:
            log.warning("could not open %s: %s", path, exc)
            self._events.put(
                _Notice(
                    _("Cannot open it"),
                    _("{path} could not be opened: {error}").format(
                        path=path, error=exc.strerror or exc
                    ),
                )
            )

    def _status_field(self, name: str) -> str | None:
        latest = self._latest or self._control.snapshot()
        value = getattr(latest, name)
        return value if isinstance(value, str) else None


# --- helpers -------------------------------------------------------------------------------------


class _OnceFilter(logging.Filter):
    """Lets each distinct log message through once."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self._seen:
            return False
        self._seen.add(message)
        return True


class _DockFailureFilter(logging.Filter):
    """Turns pystray's "Failed to dock icon" (with its traceback, at every update while no tray
    host runs) into a debug line: the user has been told in words."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != "Failed to dock icon":
            return True
        log.debug("the tray icon is not docked: no tray host (yet)")
        return False


def _import_pystray() -> Any:
    """pystray, imported only when needed: importing it without a display raises."""
    try:
        return importlib.import_module("pystray")
    except Exception as exc:
        # Xlib, GObject and AppKit each fail in their own way; all mean "no tray here".
        log.debug("pystray could not be imported", exc_info=True)
        raise TrayUnavailable(str(exc) or type(exc).__name__) from exc


def _backend_name(pystray: Any) -> str:
    module = str(getattr(pystray.Icon, "__module__", ""))
    return module.rsplit(".", 1)[-1].lstrip("_") or "unknown"


def _listen_for_xorg_clicks(icon: Any) -> None:
    """Make clicks on the Xorg backend's icon reach it.

    pystray's Xorg backend (up to 0.19.5 at least) runs the default action on a left click,
    but creates its window without ButtonPressMask, so the X server never sends it a click and
    the icon cannot be used at all. Adding the mask to the window's event mask fixes that; it
    must happen before the icon's event loop starts.
    """
    window = getattr(icon, "_window", None)
    display = getattr(icon, "_display", None)
    if window is None or display is None:
        return
    try:
        x = importlib.import_module("Xlib.X")
        window.change_attributes(
            event_mask=x.ExposureMask | x.StructureNotifyMask | x.ButtonPressMask
        )
        display.flush()
    except Exception:
        log.warning("clicks on the tray icon may not reach congsync", exc_info=True)


def _main_thread_caller() -> Callable[[Callable[[], object]], None]:
    """How the updater reaches the thread that may touch the icon (see the note at the top)."""
    if sys.platform == "darwin":
        app_helper = importlib.import_module("PyObjCTools.AppHelper")

        def on_main_thread(change: Callable[[], object]) -> None:
            app_helper.callAfter(change)

        return on_main_thread
    return _call_here


def _call_here(change: Callable[[], object]) -> None:
    change()


def _image_key(status: StatusSnapshot) -> tuple[State, int, float | None]:
    """State, animation frame and rounded progress: all that decides the picture."""
    frame = int(time.monotonic() * ANIMATION_FPS) % icon_frames(status.state)
    return (status.state, frame, _progress_fraction(status))


def _progress_fraction(status: StatusSnapshot) -> float | None:
    progress = status.progress
    if status.state is not State.SYNCING or progress is None:
        return None
    if progress.bytes_total > 0:
        fraction = progress.bytes_done / progress.bytes_total
    elif progress.files_total > 0:
        fraction = progress.files_done / progress.files_total
    else:
        return None
    return round(min(1.0, max(0.0, fraction)) * _PROGRESS_STEPS) / _PROGRESS_STEPS


@lru_cache(maxsize=128)
def _tray_image(state: State, frame: int, progress: float | None) -> Image.Image:
    return render_icon(state, TRAY_ICON_SIZE, frame=frame, progress=progress)


def _menu_shape(menu: tuple[MenuItem, ...] | None) -> object:
    """A menu without its wording: which actions sit where, and whether they can be chosen."""
    if menu is None:
        return None
    return tuple(
        (item.action, item.enabled, item.default, item.checked, _menu_shape(item.submenu))
        for item in menu
    )


def _change(
    on_main: Callable[[Callable[[], object]], None], change: Callable[[], object], what: str
) -> None:
    try:
        on_main(change)
    except Exception:
        log.exception("the tray icon's %s could not be updated", what)


def _fit_title(title: str, backend: str) -> str:
    """The tooltip as the backend can carry it."""
    if backend == "xorg":
        # pystray's Xorg backend makes it the window's WM_NAME, a Latin-1 string.
        return title.replace("…", "...").encode("latin-1", "replace").decode("latin-1")
    return title


def _always_checked(item: Any) -> bool:
    return True


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _say_on_stderr(message: str) -> None:
    print(message, file=sys.stderr)
