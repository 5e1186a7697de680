"""`congsync settings push|unlock`: congregation-wide settings in forcedPrefs.json (organizers only)."""

from __future__ import annotations

import argparse

from daemon.config import Profile
from daemon.service.root import open_publisher


def push(args: argparse.Namespace, profile: Profile) -> int:
    with open_publisher(profile, write=True) as publisher:
        messages = publisher.push_settings(args.assignments)
    for message in messages:
        print(message)
    return 0


def unlock(args: argparse.Namespace, profile: Profile) -> int:
    with open_publisher(profile, write=True) as publisher:
        messages = publisher.unlock_settings(args.keys)
    for message in messages:
        print(message)
    return 0
