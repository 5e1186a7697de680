"""The bundle's `congsync` command (with a console): exactly `congsync` as pip installs it."""

from daemon.cli import main

raise SystemExit(main())
