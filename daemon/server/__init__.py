"""The embedded WebDAV server over HTTPS (WsgiDAV on cheroot) behind `demo`, `serve` and the
tests, and the sample congregation the demo serves."""
