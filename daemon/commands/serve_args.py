"""The command line of `congsync serve` (kept apart, so parsing never loads the server)."""

from __future__ import annotations

import argparse

from daemon.i18n import _


def add_arguments(serve: argparse.ArgumentParser) -> None:
    """The parser of `congsync serve` and its `user` sub-commands."""
    serve.add_argument("--root", help=_("the folder to serve"))
    serve.add_argument("--users", help=_("the accounts file (default: beside the served folder)"))
    serve.add_argument("--host", default="127.0.0.1", help=_("the address to listen on"))
    serve.add_argument("--port", type=int, default=8443)
    serve.add_argument("--cert", help=_("the server's certificate (PEM, with its chain)"))
    serve.add_argument("--key", help=_("the certificate's private key (PEM)"))
    serve.add_argument(
        "--install-service",
        action="store_true",
        help=_("install a systemd service that runs this server (Linux)"),
    )
    serve.add_argument(
        "--system",
        action="store_true",
        help=_("with --install-service: a system service instead of a user service"),
    )
    serve.add_argument(
        "--print-unit",
        action="store_true",
        help=_("with --install-service: print the unit instead of installing it"),
    )
    users = serve.add_subparsers(dest="serve_action", metavar="user")
    user = users.add_parser("user", help=_("add, remove or list accounts"))
    user_sub = user.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    # The sub-commands' own --root/--users leave a value given before `user` alone.
    suppressed = argparse.ArgumentParser(add_help=False)
    suppressed.add_argument("--root", default=argparse.SUPPRESS, help=_("the folder to serve"))
    suppressed.add_argument(
        "--users",
        default=argparse.SUPPRESS,
        help=_("the accounts file (default: beside the served folder)"),
    )
    add = user_sub.add_parser("add", parents=[suppressed], help=_("add or replace an account"))
    add.add_argument("name", metavar="NAME")
    role = add.add_mutually_exclusive_group(required=True)
    role.add_argument("--organizer", dest="role", action="store_const", const="organizer")
    role.add_argument("--member", dest="role", action="store_const", const="member")
    add.add_argument(
        "--password-stdin", action="store_true", help=_("read the password from stdin")
    )
    rm = user_sub.add_parser("rm", parents=[suppressed], help=_("remove an account"))
    rm.add_argument("name", metavar="NAME")
    user_sub.add_parser("ls", parents=[suppressed], help=_("list the accounts"))
