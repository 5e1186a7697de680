"""`congsync hide|unhide DATE NAME`: keep a file out of (or let it back into) a meeting's media."""

from __future__ import annotations

import argparse

from daemon.config import Profile
from daemon.service.root import open_publisher
from daemon.sync.publishing import parse_day


def run(args: argparse.Namespace, profile: Profile) -> int:
    day = parse_day(args.date)
    with open_publisher(profile, write=True) as publisher:
        if args.command == "hide":
            messages = publisher.hide(day, args.name)
        else:
            messages = [publisher.unhide(day, args.name)]
    for message in messages:
        print(message)
    return 0
