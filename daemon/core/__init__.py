"""The pure core: the congregation-folder format, meetings and the sync window, safe names,
effective settings, and the member's and organizer's planning. No I/O; imports nothing of the
shell (dav, sync, service, server, faces)."""
