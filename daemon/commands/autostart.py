"""`congsync autostart on|off|status`: start congsync when this user logs in, or stop doing so."""

from __future__ import annotations

import argparse
from pathlib import Path

from daemon.config import Profile
from daemon.errors import AutostartError
from daemon.i18n import _, fact
from daemon.service.autostart import (
    SYSTEMCTL_DISABLE,
    SYSTEMCTL_ENABLE,
    AutostartEntry,
    EntryState,
    current_platform,
    disable,
    enable,
    entry_for_this_computer,
    state_of,
    systemd_unit_enabled,
)


def run(args: argparse.Namespace, profile: Profile) -> int:
    systemd = bool(getattr(args, "systemd", False))
    entry = entry_for_this_computer(systemd=systemd, config_file=profile.paths.named_config)
    handler = {"on": turn_on, "off": turn_off, "status": show}[args.autostart_action]
    return handler(entry, profile, systemd=systemd)


def turn_on(entry: AutostartEntry, profile: Profile, *, systemd: bool) -> int:
    before = enable(entry)
    if systemd:
        print(_("The systemd user service is in place: {path}").format(path=entry.path))
        print(
            _("To start it now and at every boot, run: {command}").format(command=SYSTEMCTL_ENABLE)
        )
        print(
            _("On a computer nobody logs in to, also run: {command}").format(
                command="loginctl enable-linger"
            )
        )
    elif before is EntryState.ON:
        print(_("Autostart was already on: {path}").format(path=entry.path))
    elif before is EntryState.OUTDATED:
        print(
            _(
                "Autostart is on and now starts this congsync and its configuration when you log in: {path}"
            ).format(path=entry.path)
        )
    else:
        print(
            _("Autostart is on: congsync will start when you log in ({path}).").format(
                path=entry.path
            )
        )
    if not Path(profile.paths.config_file).exists():
        # Not an error: setup may well come next, but the next login would find nothing to run.
        print(_("congsync is not set up yet: run “congsync setup” before you log in again."))
    return 0


def turn_off(entry: AutostartEntry, profile: Profile, *, systemd: bool) -> int:
    if systemd and systemd_unit_enabled():
        # Removing the unit first would leave systemd holding a link to nothing.
        raise AutostartError(
            fact(
                "The systemd user service is still enabled. Run “{command}” first, then this command again.",
                command=SYSTEMCTL_DISABLE,
            )
        )
    before = disable(entry)
    if systemd:
        if before is EntryState.OFF:
            print(_("The systemd user service was not installed."))
        else:
            print(_("The systemd user service is removed ({path}).").format(path=entry.path))
    elif before is EntryState.OFF:
        print(_("Autostart was already off."))
    else:
        print(
            _(
                "Autostart is off: congsync no longer starts when you log in (removed {path})."
            ).format(path=entry.path)
        )
    return 0


def show(entry: AutostartEntry, profile: Profile, *, systemd: bool) -> int:
    if systemd:
        _describe_unit(entry, state_of(entry))
        return 0
    _describe(entry, state_of(entry))
    if current_platform() == "linux":
        # Also mention a systemd unit set up earlier, so that nobody wonders what starts congsync.
        unit = entry_for_this_computer(systemd=True, config_file=profile.paths.named_config)
        unit_state = state_of(unit)
        if unit_state is not EntryState.OFF:
            _describe_unit(unit, unit_state)
    return 0


def _describe(entry: AutostartEntry, state: EntryState) -> None:
    if state is EntryState.ON:
        message = _("Autostart is on: congsync starts when you log in ({path}).")
    elif state is EntryState.OUTDATED:
        message = _(
            "Autostart is on ({path}), but for another Python or configuration than this one; “congsync autostart on” updates it."
        )
    elif state is EntryState.FOREIGN:
        message = _("{path} exists, but congsync did not write it; congsync leaves it alone.")
    else:
        message = _(
            "Autostart is off: congsync does not start by itself. “congsync autostart on” turns it on ({path})."
        )
    print(message.format(path=entry.path))


def _describe_unit(entry: AutostartEntry, state: EntryState) -> None:
    if state is EntryState.OFF:
        print(_("The systemd user service is not installed ({path}).").format(path=entry.path))
        return
    if state is EntryState.FOREIGN:
        print(
            _("{path} exists, but congsync did not write it; congsync leaves it alone.").format(
                path=entry.path
            )
        )
        return
    if state is EntryState.OUTDATED:
        print(
            _(
                "The systemd user service ({path}) is for another Python or configuration than this one; “congsync autostart on --systemd” updates it."
            ).format(path=entry.path)
        )
    if systemd_unit_enabled():
        print(
            _("The systemd user service is installed and enabled ({path}).").format(path=entry.path)
        )
    else:
        print(
            _(
                "The systemd user service is installed ({path}) but not enabled; run: {command}"
            ).format(path=entry.path, command=SYSTEMCTL_ENABLE)
        )
