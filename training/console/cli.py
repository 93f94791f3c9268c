"""`gridloop console` and `gridloop users`: serve the training console, manage its accounts.

    gridloop console [--db URL] [--host 127.0.0.1] [--port 8000]
    gridloop users add NAME --role instructor|trainee [--password-stdin] [--db URL]
    gridloop users password NAME [--password-stdin] [--db URL]
    gridloop users list [--db URL]

``--db`` is a SQLite file (default ``gridloop-console.db``, or ``$GRIDLOOP_CONSOLE_DB``) or a
``postgresql://`` URL. The cookie secret comes from ``$GRIDLOOP_CONSOLE_SECRET`` or a file
generated once next to a SQLite database (``console-secret`` in the working folder otherwise).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import GridLoopError
from sim.i18n import N_, _

if TYPE_CHECKING:
    from training.console.db import ConsoleStore

__all__ = ["register", "DEFAULT_DB"]

DEFAULT_DB = "gridloop-console.db"


_DB_HELP = N_("the console's database, e.g. class.db (default: as gridloop console: "
            "$GRIDLOOP_CONSOLE_DB or gridloop-console.db)")


def _db_default() -> str:
    return os.environ.get("GRIDLOOP_CONSOLE_DB", DEFAULT_DB)


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("console", help=_("serve the training console (trainees and instructors) "
                                       "in the browser"))
    c.add_argument("--db", default=None, help=_("SQLite file or postgresql:// URL, e.g. "
                   "class.db (default: $GRIDLOOP_CONSOLE_DB or gridloop-console.db)"))
    c.add_argument("--host", default="127.0.0.1", help=_("address to listen on, e.g. 0.0.0.0 for "
                   "a classroom network (default: 127.0.0.1, this machine only)"))
    c.add_argument("--port", type=int, default=os.environ.get("GRIDLOOP_CONSOLE_PORT", "8000"),
                   help=_("port, e.g. 8080 (default: $GRIDLOOP_CONSOLE_PORT or 8000)"))
    c.add_argument("--https-only", action="store_true",
                   help=_("send the login cookie only over HTTPS (behind a TLS proxy)"))
    c.set_defaults(handler=_cmd_console)

    u = sub.add_parser("users", help=_("add training-console accounts, reset passwords, list them"))
    usub = u.add_subparsers(dest="users_command", required=True)
    add = usub.add_parser("add", help=_("add an account"))
    add.add_argument("name", help=_("account name, e.g. lin"))
    add.add_argument("--role", required=True, choices=["instructor", "trainee"],
                     help=_("what the account may do"))
    add.add_argument("--password-stdin", action="store_true",
                     help=_("read the password from the first line of standard input"))
    add.add_argument("--db", default=None, help=_(_DB_HELP))
    add.add_argument("--lang", default=None, metavar="LANG",
                     help=_("the account's language in the console, e.g. zh-CN (en or zh-CN; "
                          "default: none, the class's or the browser's); also the language of "
                          "this command"))
    add.set_defaults(handler=_cmd_users_add)
    pw = usub.add_parser("password", help=_("set a new password for an account"))
    pw.add_argument("name", help=_("account name, e.g. lin"))
    pw.add_argument("--password-stdin", action="store_true",
                    help=_("read the password from the first line of standard input"))
    pw.add_argument("--db", default=None, help=_(_DB_HELP))
    pw.set_defaults(handler=_cmd_users_password)
    ls = usub.add_parser("list", help=_("list the accounts and their roles"))
    ls.add_argument("--db", default=None, help=_(_DB_HELP))
    ls.set_defaults(handler=_cmd_users_list)


def _store(db: str | None) -> ConsoleStore:
    try:
        from training.console.db import ConsoleStore
    except ImportError as e:
        raise GridLoopError(f"the console needs the optional extra: pip install "
                            f"'gridloop[console]' ({e.name} is missing)") from None
    return ConsoleStore(db or _db_default())


def secret_file(db: str) -> Path:
    """Where the generated cookie secret lives: next to a SQLite file, else the cwd."""
    if "://" not in db:
        return Path(db).expanduser().resolve().with_name("console-secret")
    if db.startswith("sqlite:///") and len(db) > len("sqlite:///"):
        return Path(db[len("sqlite:///"):]).resolve().with_name("console-secret")
    return Path.cwd() / "console-secret"


def _read_password(from_stdin: bool) -> str:
    from training.console.auth import check_password

    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise GridLoopError("--password-stdin: expected a password on standard input, "
                                "got nothing")
        return check_password(line.rstrip("\r\n"))
    if not sys.stdin.isatty():
        raise GridLoopError("no terminal to ask for a password: pass --password-stdin and "
                            "pipe it in")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise GridLoopError("the two passwords differ")
    return check_password(first)


def _cmd_users_add(args: argparse.Namespace) -> int:
    from sim.i18n import check_language
    from training.console.auth import check_user_name, hash_password

    name = check_user_name(args.name)
    lang = check_language(args.lang, "--lang") if args.lang else None
    store = _store(args.db)
    if store.user_by_name(name):
        raise GridLoopError(f"user {name!r} already exists (to change the password: "
                            f"gridloop users password {name})")
    uid = store.add_user(name, args.role, hash_password(_read_password(args.password_stdin)))
    if lang:
        store.set_language(uid, lang)
    print(f"added {args.role} {name}" + (f" ({lang})" if lang else ""))
    return 0


def _cmd_users_password(args: argparse.Namespace) -> int:
    from training.console.auth import hash_password
    from training.console.logins import Logins

    store = _store(args.db)
    user = store.user_by_name(args.name)
    if user is None:
        raise GridLoopError(f"no user named {args.name!r}")
    store.set_password(args.name, hash_password(_read_password(args.password_stdin)))
    ended = Logins(store.engine).end_users([user.id])    # the old password's logins end
    print(f"new password set for {args.name}" + (f"; {ended} login(s) ended" if ended else ""))
    return 0


def _cmd_users_list(args: argparse.Namespace) -> int:
    for u in _store(args.db).list_users():
        print(f"{u.name}\t{u.role}\t{u.lang or '-'}")
    return 0


def _cmd_console(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise GridLoopError(f"--port: expected 1-65535, got {args.port}")
    db = args.db or _db_default()
    store = _store(db)
    try:
        import uvicorn
    except ImportError:
        raise GridLoopError("the console needs the optional extra: pip install "
                            "'gridloop[console]' (uvicorn is missing)") from None
    from training.console.app import create_app
    from training.console.auth import console_secret

    app = create_app(store, console_secret(secret_file(db)), https_only=args.https_only)
    where = db.split("@")[-1] if "://" in db else str(Path(db).resolve())
    print("reading the exercises...", flush=True)
    n = len(app.state.console.catalogue())      # a bad exercise file fails here, not later
    print(f"GridLoop console on http://{args.host}:{args.port}  ({n} exercises; "
          f"database: {where})")
    if not store.list_users():
        print("no accounts yet: add one with `gridloop users add NAME --role instructor`")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
