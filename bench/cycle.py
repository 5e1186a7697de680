"""One congsync member cycle in its own process, for benchmarks that measure it from outside.

`python bench/cycle.py CONFIG STATE LOGS [--idle]` runs the same `ProfileRoot.run_cycle` the
daemon runs: a full listing (as `congsync sync` does), or with --idle the cheap poll the running
daemon makes between full re-lists. Prints the cycle's counts as JSON. The password comes from
CONGSYNC_PASSWORD.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import threading
from pathlib import Path

from daemon.config import Profile
from daemon.paths import Paths
from daemon.service.root import ProfileRoot


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("state", type=Path)
    parser.add_argument("logs", type=Path)
    parser.add_argument("--idle", action="store_true", help="a poll, not a full listing")
    args = parser.parse_args()
    profile = Profile(paths=Paths(args.config, args.state, args.logs))
    with ProfileRoot(profile, password=os.environ["CONGSYNC_PASSWORD"]) as root:
        result = root.run_cycle(threading.Event(), full_listing=not args.idle)
    print(json.dumps(dataclasses.asdict(result)))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
