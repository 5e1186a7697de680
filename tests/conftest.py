"""Shared fixtures: a real WebDAV server over TLS on loopback and an isolated environment."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import keyring.errors
import pytest
from davserver import DavFixture, FaultController
from memory_keyring import MemoryKeyring
from panel_support import browser, installation, panel  # noqa: F401  (the panel's fixtures)

from daemon.server.webdav import DavServer, TLSMaterial, make_tls

DAV_USERNAME = "vo"
DAV_PASSWORD = "s3cret-pass"
DAV_FOLDER = "congregation"


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MemoryKeyring]:
    """Every test gets its own state folder, config path and an empty in-memory keyring."""
    home = tmp_path_factory.mktemp("congsync-env")
    monkeypatch.setenv("CONGSYNC_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("CONGSYNC_CONFIG", str(home / "config" / "config.toml"))
    monkeypatch.delenv("CONGSYNC_PASSWORD", raising=False)
    # A congsync started as a subprocess must not reach the developer's real keyring either.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def ca_ssl_context(tls_material: TLSMaterial) -> ssl.SSLContext:
    """A client TLS context that trusts the test CA (and nothing else)."""
    return tls_material.client_ssl_context()


def _serve(
    tmp_path_factory: pytest.TempPathFactory, tls_material: TLSMaterial, **options: Any
) -> Iterator[DavFixture]:
    root = tmp_path_factory.mktemp("dav-root")
    folder_path = root / DAV_FOLDER
    folder_path.mkdir()
    faults = FaultController()
    server = DavServer(
        root, tls_material, users={DAV_USERNAME: DAV_PASSWORD}, wsgi_wrapper=faults.wrap, **options
    )
    server.start()
    try:
        yield DavFixture(
            server=server,
            base_url=server.url,
            folder=DAV_FOLDER,
            root=root,
            folder_path=folder_path,
            ca_path=tls_material.ca_pem_path,
            username=DAV_USERNAME,
            password=DAV_PASSWORD,
            faults=faults,
        )
    finally:
        faults.release()
        server.stop()


@pytest.fixture
def dav(
    tmp_path_factory: pytest.TempPathFactory, tls_material: TLSMaterial
) -> Iterator[DavFixture]:
    """A fresh WebDAV server (user vo / s3cret-pass) with an empty `congregation/` folder."""
    yield from _serve(tmp_path_factory, tls_material)


@pytest.fixture
def propagating_dav(
    tmp_path_factory: pytest.TempPathFactory, tls_material: TLSMaterial
) -> Iterator[DavFixture]:
    """Like `dav`, but folder ETags change when anything below changes (as on Nextcloud)."""
    yield from _serve(tmp_path_factory, tls_material, folder_etags="tree")


@pytest.fixture
def apache_dav(
    tmp_path_factory: pytest.TempPathFactory, tls_material: TLSMaterial
) -> Iterator[DavFixture]:
    """Like `dav`, but folder ETags move only when a direct entry changes (as on Apache)."""
    yield from _serve(tmp_path_factory, tls_material, folder_etags="direct")
