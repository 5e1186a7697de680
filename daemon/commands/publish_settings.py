"""`congsync settings push|unlock`: congregation-wide settings in forcedPrefs.json (organizers only)."""

from __future__ import annotations

import argparse

from daemon.config import Profile
from daemon.service.root import open_publisher


def push(args: argparse.Namespace, profile: Profile) -> int:
    with open_publisher(profile, write=True) as publisher:
        print("\n".join(publisher.push_settings(args.assignments)))
    return 0


def unlock(args: argparse.Namespace, profile: Profile) -> int:
    with open_publisher(profile, write=True) as publisher:
        print("\n".join(publisher.unlock_settings(args.keys)))
    return 0
