"""`congsync pause|resume|stop`: commands for the running daemon, through its control endpoint."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta

from daemon.config import Profile
from daemon.errors import ConfigError, DaemonNotRunning
from daemon.i18n import _, fact, format_when
from daemon.service.control import ControlClient

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.lower())
    if match is None:
        raise ConfigError(fact("“{text}” is not a duration; write e.g. 30m, 1h or 2d.", text=text))
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def client_for(profile: Profile) -> ControlClient:
    client = ControlClient.from_paths(profile.paths)
    if client is None:
        raise DaemonNotRunning()
    return client


def run(args: argparse.Namespace, profile: Profile) -> int:
    client = client_for(profile)
    if args.command == "pause":
        until = None
        if args.duration:
            until = datetime.now().astimezone() + parse_duration(args.duration)
        client.pause(until)
        if until is None:
            print(_("Paused until “congsync resume”."))
        else:
            print(_("Paused until {time}.").format(time=format_when(until)))
    elif args.command == "resume":
        client.resume()
        print(_("Syncing resumed."))
    else:
        client.stop()
        print(_("congsync has stopped."))
    return 0
