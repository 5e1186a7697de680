"""The one setup path of the CLI and the panel: which password it may use for which account."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from davserver import DavFixture
from memory_keyring import MemoryKeyring
from support import make_profile

from daemon.errors import CredentialsError
from daemon.service.setup_flow import known_password


def test_a_supplied_password_is_never_used_for_another_account(
    dav: DavFixture, tmp_path: Path, isolated_environment: MemoryKeyring
):
    saved = make_profile(dav, tmp_path)
    profile = dataclasses.replace(saved, password="for-this-server-only")
    assert known_password(profile, profile.config) == "for-this-server-only"
    elsewhere = profile.config.with_changes(url="https://other.example/dav/")
    with pytest.raises(CredentialsError):
        known_password(profile, elsewhere)  # typed into the panel: it must ask, not send it
    other_user = profile.config.with_changes(username="someone-else")
    with pytest.raises(CredentialsError):
        known_password(profile, other_user)
