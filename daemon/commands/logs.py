"""`congsync logs`: the recent log (passwords and Authorization headers are never in it)."""

from __future__ import annotations

import argparse

from daemon.config import Profile
from daemon.i18n import _
from daemon.service.logs import tail_log


def run(args: argparse.Namespace, profile: Profile) -> int:
    lines = tail_log(profile.paths, args.lines)
    if not lines:
        print(_("The log is empty ({path}).").format(path=profile.paths.log_file))
    for line in lines:
        print(line.rstrip("\n"))
    return 0
