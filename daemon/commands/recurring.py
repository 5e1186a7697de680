"""`congsync recurring ls|add|rm`: media that belongs to every upcoming meeting."""

from __future__ import annotations

import argparse
from pathlib import Path

from daemon.commands._publishing import human_size, upload_progress
from daemon.config import Profile
from daemon.i18n import _
from daemon.service.root import open_publisher


def run(args: argparse.Namespace, profile: Profile) -> int:
    handler = {"ls": list_recurring, "add": add, "rm": remove}[args.recurring_action]
    return handler(args, profile)


def list_recurring(args: argparse.Namespace, profile: Profile) -> int:
    with open_publisher(profile, write=False) as publisher:
        files = publisher.recurring()
    if not files:
        print(_("No recurring media is published."))
    for item in files:
        print(_("{name}  {size}").format(name=item.name, size=human_size(item.size)))
    return 0


def add(args: argparse.Namespace, profile: Profile) -> int:
    files = [Path(f) for f in args.files]
    with open_publisher(profile, write=True) as publisher, upload_progress(files) as on_bytes:
        messages = publisher.add_recurring(files, replace=args.replace, on_bytes=on_bytes)
    for message in messages:
        print(message)
    return 0


def remove(args: argparse.Namespace, profile: Profile) -> int:
    with open_publisher(profile, write=True) as publisher:
        print(publisher.remove_recurring(args.name))
    return 0
