"""`congsync media ls|add|rm`: a meeting's media on the server (changes are for organizers only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from daemon.commands._publishing import human_size, upload_progress
from daemon.config import Profile
from daemon.i18n import _, weekday_name
from daemon.service.root import open_publisher
from daemon.sync.publishing import parse_day


def run(args: argparse.Namespace, profile: Profile) -> int:
    handler = {"ls": list_media, "add": add, "rm": remove}[args.media_action]
    return handler(args, profile)


def list_media(args: argparse.Namespace, profile: Profile) -> int:
    day = parse_day(args.date) if args.date else None
    with open_publisher(profile, write=False) as publisher:
        meetings = publisher.media(day)
    if not meetings:
        print(_("No media is published for upcoming meetings."))
        return 0
    for meeting in meetings:
        print(
            _("{date} ({weekday})").format(
                date=meeting.day.isoformat(), weekday=weekday_name(meeting.day)
            )
        )
        if not meeting.files:
            print("  " + _("(no media)"))
        for item in meeting.files:
            line = _("{name}  {size}  (hidden)") if item.hidden else _("{name}  {size}")
            print("  " + line.format(name=item.name, size=human_size(item.size)))
        listed = {f.name for f in meeting.files}
        for name in meeting.hidden:
            if name not in listed:
                print("  " + _("{name}  (hidden at this meeting)").format(name=name))
    return 0


def add(args: argparse.Namespace, profile: Profile) -> int:
    day = parse_day(args.date)
    files = [Path(f) for f in args.files]
    with open_publisher(profile, write=True) as publisher, upload_progress(files) as on_bytes:
        messages = publisher.add_media(day, files, replace=args.replace, on_bytes=on_bytes)
    for message in messages:
        print(message)
    return 0


def remove(args: argparse.Namespace, profile: Profile) -> int:
    day = parse_day(args.date)
    with open_publisher(profile, write=True) as publisher:
        print(publisher.remove_media(day, args.name))
    return 0
