"""`congsync serve --install-service`: a systemd unit that runs the server (Linux).

A user unit (~/.config/systemd/user/congsync-serve.service, needs `loginctl enable-linger` to
run without a login) or, with --system, a system unit (/etc/systemd/system/, run as the user
who installs it, hardened). Windows and macOS equivalents are described in packaging/README.md.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from daemon.errors import ConfigError, LocalDiskError
from daemon.i18n import _, fact
from daemon.server.serve import ServeOptions, server_dir
from daemon.service.autostart import _reject_control_characters, _systemd_word

UNIT_NAME = "congsync-serve.service"


def serve_argv(interpreter: str, options: ServeOptions, *, frozen: bool = False) -> list[str]:
    """The command the service runs: this same congsync, with the same options."""
    argv = [interpreter] if frozen else [interpreter, "-m", "daemon"]
    argv += ["serve", "--root", str(options.root), "--host", options.host]
    argv += ["--port", str(options.port)]
    if options.cert is not None and options.key is not None:
        argv += ["--cert", str(options.cert), "--key", str(options.key)]
    if options.users is not None:
        argv += ["--users", str(options.users)]
    return argv


def unit_text(argv: Sequence[str], options: ServeOptions, *, system: bool, user: str) -> str:
    """The unit file. A system unit runs as `user` and may write only the server's folders."""
    _reject_control_characters([*argv, user])
    writable = [str(options.root), str(server_dir(options.root))]
    if options.users is not None:
        writable.append(str(options.users.parent))
    lines = [
        "# Written by “congsync serve --install-service”.",
        "[Unit]",
        "Description=congsync serve: the congregation's WebDAV folder",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(_systemd_word(arg) for arg in argv),
        "Restart=on-failure",
        "RestartSec=10",
    ]
    if system:
        lines += [
            f"User={_systemd_word(user)}",
            "NoNewPrivileges=yes",
            "PrivateTmp=yes",
            "ProtectSystem=strict",
            "ProtectHome=read-only",
            "ReadWritePaths=" + " ".join(_systemd_word(p) for p in writable),
        ]
        if options.port < 1024:
            lines.append("AmbientCapabilities=CAP_NET_BIND_SERVICE")
    lines += [
        "",
        "[Install]",
        f"WantedBy={'multi-user.target' if system else 'default.target'}",
    ]
    return "\n".join(lines) + "\n"


def unit_path(*, system: bool) -> Path:
    if system:
        return Path("/etc/systemd/system") / UNIT_NAME
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "systemd" / "user" / UNIT_NAME


def install_service(options: ServeOptions, *, system: bool, print_only: bool) -> int:
    if not sys.platform.startswith("linux"):
        raise ConfigError(
            fact("--install-service writes a systemd unit, which only Linux has; see packaging/.")
        )
    user = getpass.getuser()
    if system and user == "root":
        user = os.environ.get("SUDO_USER") or user
    frozen = bool(getattr(sys, "frozen", False))
    text = unit_text(
        serve_argv(os.path.abspath(sys.executable), options, frozen=frozen),
        options,
        system=system,
        user=user,
    )
    if print_only:
        print(text, end="")
        return 0
    path = unit_path(system=system)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LocalDiskError(
            fact("The unit {path} cannot be written: {reason}", path=path, reason=exc)
        ) from exc
    scope = "" if system else "--user "
    print(_("Wrote {path}. Start it now and at every boot with:").format(path=path))
    print(f"  systemctl {scope}daemon-reload && systemctl {scope}enable --now {UNIT_NAME}")
    if not system:
        print(
            _("So that it runs without anyone logged in: loginctl enable-linger {user}").format(
                user=user
            )
        )
    return 0
