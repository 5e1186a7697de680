from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from i18n_catalogues import write_catalogues

from daemon import i18n


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """congsync reads the test catalogues (this process, and processes it starts with the
    environment); English again afterwards."""
    folder = write_catalogues(tmp_path / "locale")
    monkeypatch.setenv(i18n.LOCALE_DIR_VARIABLE, str(folder))
    i18n.forget_catalogues()
    try:
        yield folder
    finally:
        i18n.pin_language(None)
        i18n.set_language("en")
        monkeypatch.undo()
        i18n.forget_catalogues()
