"""A keyring backend kept in a JSON file, so that several congsync processes of one test share it
(`setup` stores, a running daemon reads), as processes share the OS keyring.

Child processes get it with PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring, the tests folder
on PYTHONPATH and the file named by CONGSYNC_TEST_KEYRING (see `file_keyring_env`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring.backend
import keyring.errors

FILE_VARIABLE = "CONGSYNC_TEST_KEYRING"


def file_keyring_env(path: Path) -> dict[str, str]:
    """The environment that gives a child process this keyring (and no other)."""
    tests = str(Path(__file__).parent)
    return {
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "PYTHONPATH": os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p),
        FILE_VARIABLE: str(path),
    }


class FileKeyring(keyring.backend.KeyringBackend):
    # Below every real backend, so keyring's own detection never picks it by accident.
    priority = -1

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[FILE_VARIABLE])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def _save(self, data: dict[str, str]) -> None:
        tmp = self._path().with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self._path())

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\n{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\n{username}", None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")
        self._save(data)
