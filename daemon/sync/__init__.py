"""The shell that syncs: one discovery of the server folder, the member and organizer cycles,
transfers and staged uploads, the media and organizer folders on disk, the journal, cleanup and
publishing. Decides with the core, talks to the server only through dav."""
