"""Providers known to speak WebDAV, as the Setup page's *Providers* button lists them.

A courtesy, not an endorsement: the best server is the one you own. Each preset gives the
address pattern (HOST and USER stand for what the user replaces) and the folder browsing
starts at (the account's root: the congregation folder is chosen inside it). Beside each, the
provider's own documentation of that address; where it could not be confirmed, the comment
says so rather than invent one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from daemon.i18n import _


class AppPassword(StrEnum):
    """When a provider asks for an app-specific password instead of the login password."""

    NEVER = ""  # the login password works
    ALWAYS = "always"
    TWO_FACTOR = "two-factor"  # only once two-factor login is on


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    url: str  # the address pattern; HOST and USER are placeholders
    root: str  # the folder browsing starts at, relative to the address ("" = the address itself)
    note: str | None = None  # what to know about the account (passwords), shown on picking it
    app_password: AppPassword = AppPassword.NEVER


def providers() -> tuple[Provider, ...]:
    """The presets, in the order the page lists them (built per call: translated texts)."""
    return (
        # https://docs.nextcloud.com/server/latest/user_manual/de/files/access_webdav.html
        # ("Zugriff auf Nextcloud-Dateien über WebDAV"; the English manual has the same page
        # under /user_manual/en/): https://example.com/nextcloud/remote.php/dav/files/USERNAME/,
        # and an app password from the security settings when two-factor login is on.
        Provider(
            "nextcloud",
            "Nextcloud",
            "https://HOST/remote.php/dav/files/USER/",
            "",
            _(
                "With two-factor login, create an app password (Settings → Security) and use it "
                "here."
            ),
            app_password=AppPassword.TWO_FACTOR,
        ),
        # ownCloud's own manual page could not be confirmed here. The address is the one
        # ownCloud's maintainers give in https://github.com/owncloud/owncloud-sdk/issues/1139
        # ("remote.php/dav explicitly requires the username in the endpoint, e.g.
        # remote.php/dav/files/admin"; ownCloud 10 also serves remote.php/webdav).
        Provider("owncloud", "ownCloud", "https://HOST/remote.php/dav/files/USER/", ""),
        # Koofr's own help page for WebDAV could not be confirmed here; the address
        # https://app.koofr.net/dav/Koofr/ (the primary storage, "Koofr") is the one commonly
        # given. App passwords: https://app.koofr.net/app/admin/preferences/password (named in
        # rclone's Koofr documentation, https://rclone.org/koofr/).
        Provider(
            "koofr",
            "Koofr",
            "https://app.koofr.net/dav/Koofr/",
            "",
            _(
                "Koofr needs an app password: create one in Koofr under Preferences → Password "
                "→ App passwords, and use it here."
            ),
            app_password=AppPassword.ALWAYS,
        ),
        # 4shared's FAQ (https://www.4shared.com/faq.jsp, seen as
        # https://dc303.4shared.com/faq.jsp?locale=ko) answers "What is WebDav?" and names
        # webdav.4shared.com (Windows: \\webdav.4shared.com@ssl\DavWWWRoot).
        Provider("4shared", "4shared", "https://webdav.4shared.com/", ""),
        # PowerFolder's own documentation of its WebDAV address could not be confirmed here
        # (its wiki, https://powerfolder.atlassian.net/wiki/, describes the client). The
        # address of the hosted service is commonly given as https://my.powerfolder.com/webdav/;
        # a company's own PowerFolder server has its own host.
        Provider("powerfolder", "PowerFolder", "https://HOST/webdav/", ""),
        # https://docs.hetzner.com/robot/storage-box/general lists WebDAV among a Storage Box's
        # protocols (it must be enabled in Hetzner Console) and says to use the DNS name
        # <username>.your-storagebox.de; WebDAV is served over HTTPS on that name.
        Provider("hetzner", "Hetzner Storage Box", "https://USER.your-storagebox.de/", ""),
        # https://www.infomaniak.com/en/support/faq/admin2/kdrive?i=2 (Joplin on kDrive via
        # WebDAV): server https://IDkDrive.connect.kdrive.infomaniak.com/, username the e-mail
        # address of the Infomaniak account, an application password when two-factor
        # authentication is on.
        Provider(
            "kdrive",
            "Infomaniak kDrive",
            "https://HOST.connect.kdrive.infomaniak.com/",
            "",
            _(
                "Replace HOST with your kDrive ID. With two-factor authentication, create an "
                "application password in your Infomaniak account and use it here; the username "
                "is your account's e-mail address."
            ),
            app_password=AppPassword.TWO_FACTOR,
        ),
        # Telekom's own help page of the address could not be confirmed here. The address
        # https://webdav.magentacloud.de/ is the one commonly given (e.g. in lists of WebDAV
        # addresses), and since 2017 MagentaCLOUD asks for a separate WebDAV password
        # (https://www.teltarif.de/telekom-magenta-cloud-webdav-passwort/news/67591.html).
        Provider(
            "magentacloud",
            "MagentaCLOUD",
            "https://webdav.magentacloud.de/",
            "",
            _("MagentaCLOUD asks for its own WebDAV password; set it in MagentaCLOUD first."),
        ),
        # congsync's own server (`daemon/server/webdav.py`, as `congsync demo` runs it) serves
        # the account's files at the root of its address; a port in the address is honoured.
        Provider("congsync", _("A self-hosted congsync server"), "https://HOST:PORT/", ""),
    )
