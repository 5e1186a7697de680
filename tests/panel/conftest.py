from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from davserver import DavFixture
from installation import Installation
from panel_support import browser, panel  # noqa: F401  (fixtures)


@pytest.fixture
def installation(dav: DavFixture, tmp_path: Path) -> Iterator[Installation]:
    """A member's `congsync run --no-tray`, idle after its first cycle."""
    installed = Installation(dav, tmp_path / "home")
    installed.start("--interval", "3600")
    installed.wait_state("idle")
    try:
        yield installed
    finally:
        installed.close()
