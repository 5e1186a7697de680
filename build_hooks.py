"""The wheel's build compiles the message catalogues (`daemon/locale/*/LC_MESSAGES/*.po`) into
the `.mo` files congsync reads at run time, so no compiled catalogue is ever kept in git."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    """`build_py`, then each catalogue copied into the build compiled beside it."""

    def run(self) -> None:
        super().run()
        for po in sorted(Path(self.build_lib, "daemon", "locale").glob("*/LC_MESSAGES/*.po")):
            with open(po, "rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            po.with_suffix(".mo").write_bytes(buffer.getvalue())
