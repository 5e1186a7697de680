"""`congsync settings`: show the settings in force, change a local one (unless the congregation locked it)."""

from __future__ import annotations

import argparse
import json

from daemon.commands import publish_settings
from daemon.config import Profile
from daemon.core.layout import CongregationSettings
from daemon.core.settings import describe, set_local
from daemon.errors import ConfigError
from daemon.i18n import _, fact
from daemon.service.root import ProfileRoot
from daemon.sync.congregation import cached_settings


def run(args: argparse.Namespace, profile: Profile) -> int:
    action = getattr(args, "settings_action", None) or "show"
    handler = {
        "show": show,
        "set": set_value,
        "push": publish_settings.push,
        "unlock": publish_settings.unlock,
    }[action]
    return handler(args, profile)


def _congregation(profile: Profile) -> CongregationSettings:
    """The congregation's settings as last fetched (no request to the server)."""
    with ProfileRoot(profile) as root:
        return cached_settings(root.journal)


def show(args: argparse.Namespace, profile: Profile) -> int:
    views = describe(profile.config, _congregation(profile))
    if getattr(args, "json", False):
        print(
            json.dumps(
                [
                    {"key": v.key, "value": v.value, "locked": v.locked, "source": v.source}
                    for v in views
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    for view in views:
        if view.value is None:
            continue
        if view.locked:
            line = _("{key} = {value}  (set by the congregation; cannot be changed here)")
        elif view.source == "default":
            line = _("{key} = {value}  (default)")
        else:
            line = _("{key} = {value}")
        print(line.format(key=view.key, value=view.value))
    return 0


def set_value(args: argparse.Namespace, profile: Profile) -> int:
    changed = profile.config
    congregation = _congregation(profile)
    for assignment in args.assignments:
        key, sep, value = assignment.partition("=")
        if not sep:
            raise ConfigError(fact("Write each setting as KEY=VALUE, e.g. weeks_ahead=3."))
        changed = set_local(changed, key.strip(), value.strip(), congregation)
    profile.save(changed)
    print(_("Saved. A running congsync picks the change up at its next sync."))
    return 0
