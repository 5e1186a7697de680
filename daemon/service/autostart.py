"""Start congsync at login: which file goes where with what content (pure), then writing or removing it.

Each platform gets one small file in the place its desktop reads at login: an XDG autostart entry
on Linux (or, for machines without a desktop, a systemd user unit), a LaunchAgent on macOS and a
`.cmd` in the Startup folder on Windows. Every file carries `MARKER`, so that `off` removes only a
file congsync wrote. The files' own text stays English and untranslated: the desktop, launchd and
cmd.exe read it, and the marker must stay the same whatever language wrote it.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Literal

from daemon.errors import AutostartError, ConfigError, LocalDiskError
from daemon.i18n import fact

Platform = Literal["linux", "macos", "windows"]

MARKER = "congsync-autostart"
_MARKER_TEXT = f'{MARKER}: written by "congsync autostart on"; "congsync autostart off" removes it.'
_DESCRIPTION = "Keeps this computer's meeting media in step with the congregation's folder."
LAUNCH_AGENT_LABEL = "org.congsync.agent"
SYSTEMD_UNIT = "congsync.service"
SYSTEMCTL_ENABLE = "systemctl --user enable --now congsync"
SYSTEMCTL_DISABLE = "systemctl --user disable --now congsync"


@dataclass(frozen=True)
class AutostartEntry:
    """One file that starts congsync at login: where it goes and exactly what it holds."""

    path: PurePath
    content: str


class EntryState(Enum):
    OFF = "off"  # no file there
    ON = "on"  # congsync's file, exactly what `on` would write now
    OUTDATED = "outdated"  # congsync's file, but for another Python or configuration
    FOREIGN = "foreign"  # a file congsync did not write


# -- the pure part: which file, where, with what content -------------------------------------


def current_platform(sys_platform: str = sys.platform) -> Platform:
    if sys_platform == "win32":
        return "windows"
    if sys_platform == "darwin":
        return "macos"
    # The BSDs and other Unix desktops follow the same XDG autostart specification as Linux.
    return "linux"


def windowless_interpreter(interpreter: str) -> str:
    """The `pythonw.exe` next to a Windows `python.exe`: it runs without a console window."""
    path = PureWindowsPath(interpreter)
    return str(path.with_name("pythonw.exe"))


def daemon_argv(interpreter: str, *, no_tray: bool = False) -> tuple[str, ...]:
    """`-m daemon` with an absolute interpreter works from a venv without anything on PATH."""
    return (interpreter, "-m", "daemon", "run", *(["--no-tray"] if no_tray else []))


def xdg_config_home(env: Mapping[str, str], home: str) -> PurePosixPath:
    value = env.get("XDG_CONFIG_HOME", "")
    # The XDG specification says to ignore a relative value.
    if value and PurePosixPath(value).is_absolute():
        return PurePosixPath(value)
    return PurePosixPath(home) / ".config"


def _reject_control_characters(values: Sequence[str]) -> None:
    # A newline would end the line inside every format here and let a path inject its own keys.
    for value in values:
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise ConfigError(
                fact(
                    "The path {path!r} contains a control character, so congsync cannot start it at login.",
                    path=value,
                )
            )


_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def _desktop_exec_argument(arg: str) -> str:
    # Desktop Entry Specification, "The Exec key": quote reserved characters, double `%`.
    if arg and not (_DESKTOP_RESERVED & set(arg)):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
    return quoted.replace("%", "%%")


def _desktop_string(value: str) -> str:
    # Values of string keys are unescaped once more (\s, \n, \\) before Exec is split.
    return value.replace("\\", "\\\\")


def desktop_entry_text(argv: Sequence[str], config_file: str | None, *, autostart: bool) -> str:
    """An XDG desktop entry; `autostart` adds the marker and the GNOME autostart key."""
    command = [*argv]
    if config_file is not None:
        command = ["env", f"CONGSYNC_CONFIG={config_file}", *command]
    _reject_control_characters(command)
    exec_line = _desktop_string(" ".join(_desktop_exec_argument(arg) for arg in command))
    lines = [
        "[Desktop Entry]",
        *([f"# {_MARKER_TEXT}"] if autostart else []),
        "Type=Application",
        "Name=congsync",
        "GenericName=Meeting media sync",
        f"Comment={_DESCRIPTION}",
        f"Exec={exec_line}",
        "Terminal=false",
        "Categories=Network;FileTransfer;",
        *(["X-GNOME-Autostart-enabled=true"] if autostart else []),
    ]
    return "\n".join(lines) + "\n"


def _systemd_word(arg: str) -> str:
    # systemd.service(5) "Command lines" and systemd.unit(5) "Specifiers": C-style quoting,
    # `%` starts a specifier and `$` an environment variable, so both are doubled.
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if arg and not any(ch in escaped for ch in " \t\"'\\;"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_unit_text(argv: Sequence[str], config_file: str | None) -> str:
    """A systemd user unit for machines without a desktop session (no tray icon)."""
    _reject_control_characters([*argv, *([config_file] if config_file else [])])
    environment = []
    if config_file is not None:
        value = f"CONGSYNC_CONFIG={config_file}".replace("%", "%%")
        environment = ['Environment="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"']
    lines = [
        f"# {_MARKER_TEXT}",
        f"# Then: {SYSTEMCTL_ENABLE}",
        "[Unit]",
        "Description=congsync: meeting media sync",
        "",
        "[Service]",
        "Type=simple",
        *environment,
        "ExecStart=" + " ".join(_systemd_word(arg) for arg in argv),
        # "congsync stop" exits 0 and stays stopped; a crash or a lost network restarts it, slowly
        # enough that a configuration error does not spin.
        "Restart=on-failure",
        "RestartSec=30",
        "",
        "[Install]",
        "WantedBy=default.target",
    ]
    return "\n".join(lines) + "\n"


def launch_agent_text(argv: Sequence[str], config_file: str | None) -> str:
    """A per-user LaunchAgent: run at login, restarted only when it exits with an error."""
    agent: dict[str, object] = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,
        # Restart after a crash, but not after "congsync stop" or Quit in the tray (exit 0).
        "KeepAlive": {"SuccessfulExit": False},
        # Like RestartSec in the systemd unit: an error at start-up does not spin.
        "ThrottleInterval": 30,
    }
    if config_file is not None:
        agent["EnvironmentVariables"] = {"CONGSYNC_CONFIG": config_file}
    text = plistlib.dumps(agent, sort_keys=False).decode("utf-8")
    # plistlib writes no comments; the marker goes right before the root element.
    head, sep, rest = text.partition("<plist")
    return f"{head}<!-- {_MARKER_TEXT} -->\n{sep}{rest}"


def _cmd_value(value: str) -> str:
    # Inside double quotes only `%` is special to cmd.exe (delayed expansion is off by default).
    return value.replace("%", "%%")


def startup_cmd_text(argv: Sequence[str], config_file: str | None) -> str:
    """A Startup-folder `.cmd` that hands off to (ideally) pythonw and closes its own window."""
    _reject_control_characters([*argv, *([config_file] if config_file else [])])
    program, *args = argv
    lines = [
        "@echo off",
        f"rem {_MARKER_TEXT}",
        # The file is UTF-8, so that a user name like "José" in a path survives cmd.exe.
        "chcp 65001 >nul",
        *([f'set "CONGSYNC_CONFIG={_cmd_value(config_file)}"'] if config_file else []),
        # `start ""` returns at once, so the console window closes while congsync keeps running.
        " ".join(['start ""', f'"{_cmd_value(program)}"', *(_cmd_value(a) for a in args)]),
    ]
    return "\r\n".join(lines) + "\r\n"


def autostart_entry(
    platform: Platform,
    *,
    interpreter: str,
    env: Mapping[str, str],
    home: str,
    pythonw_available: bool = False,
) -> AutostartEntry:
    """The login entry for `platform`, starting `interpreter -m daemon run`.

    `env["CONGSYNC_CONFIG"]`, when set, is passed on so that a non-default profile autostarts;
    nothing else from the environment is (in particular never `CONGSYNC_PASSWORD`).
    """
    config_file = env.get("CONGSYNC_CONFIG") or None
    if platform == "linux":
        path = xdg_config_home(env, home) / "autostart" / "congsync.desktop"
        content = desktop_entry_text(daemon_argv(interpreter), config_file, autostart=True)
        return AutostartEntry(path, content)
    if platform == "macos":
        agents = PurePosixPath(home) / "Library" / "LaunchAgents"
        content = launch_agent_text(daemon_argv(interpreter), config_file)
        return AutostartEntry(agents / f"{LAUNCH_AGENT_LABEL}.plist", content)
    appdata = env.get("APPDATA", "")
    roaming = (
        PureWindowsPath(appdata)
        if appdata and PureWindowsPath(appdata).is_absolute()
        else PureWindowsPath(home) / "AppData" / "Roaming"
    )
    startup = roaming / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    program = windowless_interpreter(interpreter) if pythonw_available else interpreter
    content = startup_cmd_text(daemon_argv(program), config_file)
    return AutostartEntry(startup / "congsync.cmd", content)


def systemd_entry(*, interpreter: str, env: Mapping[str, str], home: str) -> AutostartEntry:
    """The systemd user unit (Linux without a desktop): `congsync run --no-tray`."""
    path = xdg_config_home(env, home) / "systemd" / "user" / SYSTEMD_UNIT
    config_file = env.get("CONGSYNC_CONFIG") or None
    content = systemd_unit_text(daemon_argv(interpreter, no_tray=True), config_file)
    return AutostartEntry(path, content)


def systemd_enabled_link(env: Mapping[str, str], home: str) -> PurePosixPath:
    """Where `systemctl --user enable` puts its link to the unit."""
    return xdg_config_home(env, home) / "systemd" / "user" / "default.target.wants" / SYSTEMD_UNIT


def classify(entry: AutostartEntry, existing: str | None) -> EntryState:
    """Compare what is on disk (`None`: nothing) with what `on` would write now."""
    if existing is None:
        return EntryState.OFF
    if MARKER not in existing:
        return EntryState.FOREIGN
    # Line endings are compared loosely: an editor or git may have rewritten them.
    if existing.replace("\r\n", "\n") == entry.content.replace("\r\n", "\n"):
        return EntryState.ON
    return EntryState.OUTDATED


# -- the I/O part ----------------------------------------------------------------------------


def environment_to_carry(
    environ: Mapping[str, str], config_file: Path | None = None
) -> dict[str, str]:
    """What an entry needs: the platform locations that decide where it goes (XDG_CONFIG_HOME,
    APPDATA) and, for a profile of its own, its configuration file, made absolute (the entry runs
    from another working directory)."""
    carried = {k: environ[k] for k in ("XDG_CONFIG_HOME", "APPDATA") if environ.get(k)}
    if config_file is not None:
        carried["CONGSYNC_CONFIG"] = os.path.abspath(config_file)
    return carried


def entry_for_this_computer(
    *,
    systemd: bool = False,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> AutostartEntry:
    """The entry for the running interpreter, platform and home folder, starting the profile of
    `config_file` (None: the default profile)."""
    env = environment_to_carry(os.environ if environ is None else environ, config_file)
    home = str(Path.home())
    interpreter = os.path.abspath(sys.executable)
    platform = current_platform()
    if systemd:
        if platform != "linux":
            raise ConfigError(fact("“--systemd” is for Linux only."))
        return systemd_entry(interpreter=interpreter, env=env, home=home)
    pythonw = platform == "windows" and Path(windowless_interpreter(interpreter)).is_file()
    return autostart_entry(
        platform, interpreter=interpreter, env=env, home=home, pythonw_available=pythonw
    )


def read_existing(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LocalDiskError(
            fact("{path} cannot be read: {reason}.", path=path, reason=exc.strerror or exc)
        ) from exc


def state_of(entry: AutostartEntry) -> EntryState:
    return classify(entry, read_existing(Path(entry.path)))


def _write_atomic(path: Path, content: str) -> None:
    # A half-written entry could start a broken command at every login; a rename never leaves one.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(content.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _foreign(path: PurePath) -> AutostartError:
    return AutostartError(
        fact(
            "{path} was not written by congsync, so congsync leaves it alone. Remove or rename it yourself if it should go.",
            path=path,
        )
    )


def enable(entry: AutostartEntry) -> EntryState:
    """Write the entry (replacing an older one of congsync's); returns the state found before."""
    path = Path(entry.path)
    before = state_of(entry)
    if before is EntryState.FOREIGN:
        raise _foreign(entry.path)
    if before is not EntryState.ON:
        try:
            _write_atomic(path, entry.content)
        except OSError as exc:
            raise LocalDiskError(
                fact("{path} cannot be written: {reason}.", path=path, reason=exc.strerror or exc)
            ) from exc
    return before


def disable(entry: AutostartEntry) -> EntryState:
    """Remove congsync's entry, never anyone else's; returns the state found before."""
    path = Path(entry.path)
    before = state_of(entry)
    if before is EntryState.FOREIGN:
        raise _foreign(entry.path)
    if before is not EntryState.OFF:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise LocalDiskError(
                fact("{path} cannot be removed: {reason}.", path=path, reason=exc.strerror or exc)
            ) from exc
    return before


def systemd_unit_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = environment_to_carry(os.environ if environ is None else environ)
    return os.path.lexists(systemd_enabled_link(env, str(Path.home())))
