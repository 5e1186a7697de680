"""congsync: mirrors a congregation's meeting media from a WebDAV folder to this computer."""

__version__ = "0.1.0"
