"""Allows `python -m daemon`."""

from .cli import main

raise SystemExit(main())
