"""The bundle's `congsync-tray` (no console window): `congsync run`, which opens the setup page
on the first start and then keeps syncing with the tray icon."""

import sys

from daemon.cli import main

raise SystemExit(main(["run", *sys.argv[1:]]))
