"""``python -m bot.console``: run the review console, or manage it from the command line.

Commands:
    serve (default)   run the web console (CONSOLE_HOST / CONSOLE_PORT, default 127.0.0.1:8081)
    create-user       create an account: --username NAME --role officer|admin
                      (password from a prompt, or one line on stdin with --password-stdin)
    sync              read new conversations into the inbox now (prints what was read)
    regroup           group all questions again (after changing CONSOLE_CLUSTER_THRESHOLD)
    export            write data/nlu/console_annotations.yml from the annotations
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.console.config import ConsoleSettings


def _create_user(args: argparse.Namespace, settings: ConsoleSettings) -> int:
    from bot.console import accounts
    from bot.console.db import ConsoleDB

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("密码: ")
        if getpass.getpass("再次输入密码: ") != password:
            print("两次输入的密码不一致。", file=sys.stderr)
            return 2
    db = ConsoleDB(settings)
    try:
        with db.session() as session:
            user = accounts.create_user(session, settings, args.username, password, args.role)
            name, role = user.username, user.role
    except accounts.AccountError as exc:
        print(f"无法创建账号：{exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"created {role} account '{name}'")
    return 0


def _sync(settings: ConsoleSettings) -> int:
    from bot.console.db import ConsoleDB
    from bot.console.ingest import Syncer

    db = ConsoleDB(settings)
    try:
        result = Syncer(db).sync()
    finally:
        db.dispose()
    print(
        f"read {result.user_messages} user messages, {result.items} inbox items, "
        f"{result.new_texts} new texts in {result.seconds:.1f}s"
    )
    return 0


def _regroup(settings: ConsoleSettings) -> int:
    from bot.console.db import ConsoleDB
    from bot.console.ingest import Syncer

    db = ConsoleDB(settings)
    try:
        groups = Syncer(db).regroup_all()
    finally:
        db.dispose()
    print(f"{groups} groups")
    return 0


def _export(settings: ConsoleSettings) -> int:
    from bot.console.db import ConsoleDB
    from bot.console.export import export_annotations
    from bot.console.intents import load_catalog

    db = ConsoleDB(settings)
    try:
        with db.session() as session:
            report = export_annotations(
                session, settings, load_catalog(settings.project_dir, settings.nlu_export_path)
            )
    finally:
        db.dispose()
    print(f"{report.examples} examples ({report.intents} intents) -> {report.path}")
    for text, mine, other in report.conflicts:
        print(f"conflict: {text!r} annotated {mine}, already {other} elsewhere", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit code.

    """
    parser = argparse.ArgumentParser(
        prog="python -m bot.console", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the web console")
    create = sub.add_parser("create-user", help="create an officer or admin account")
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=("officer", "admin"), default="officer")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    sub.add_parser("sync", help="read new conversations into the inbox")
    sub.add_parser("regroup", help="group all questions again")
    sub.add_parser("export", help="export annotations as Rasa NLU data")
    args = parser.parse_args(argv)
    settings = ConsoleSettings.from_env()
    if args.command == "create-user":
        return _create_user(args, settings)
    if args.command == "sync":
        return _sync(settings)
    if args.command == "regroup":
        return _regroup(settings)
    if args.command == "export":
        return _export(settings)
    from bot.console.server import serve

    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
