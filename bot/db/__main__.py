"""Command line of the data layer: ``python -m bot.db migrate|seed|downgrade``.

Examples::

    python -m bot.db migrate                 # create/upgrade the schema (DATABASE_URL)
    python -m bot.db seed                    # migrate, then seed sample data (idempotent)
    python -m bot.db seed --residents 20000  # a small registry (tests, demos)
    python -m bot.db seed --if-empty         # startup: seed once, then only top up slots
    python -m bot.db demo-cases              # sample case numbers to try the progress lookup
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ehuzheng python -m bot.db seed
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence

from sqlalchemy.engine import make_url


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _print_demo_cases(url: str, county: str) -> int:
    """Print one synthetic sample case per stage: number and the phone's last 4 digits."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from bot.db.models import CASE_STAGES
    from bot.db.seed import sample_cases_for
    from bot.db.session import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            cases = [c for c in sample_cases_for(session) if c.county == county]
    except SQLAlchemyError:
        cases = []
    finally:
        engine.dispose()
    if not cases:
        print(f"no sample cases for {county}: run `python -m bot.db seed` first")
        return 1
    print(f"SAMPLE cases in {county} (synthetic phones; ask the bot “查进度”):")
    for stage in CASE_STAGES:
        case = next((c for c in cases if c.stage == stage), None)
        if case is not None:
            print(f"  {case.case_number}  phone last 4: {case.phone[-4:]}  ({stage})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the data-layer command line.

    Args:
        argv: arguments (default ``sys.argv[1:]``).

    Returns:
        The process exit code.

    """
    from bot.db import migrate, seed
    from bot.db.session import database_url

    parser = argparse.ArgumentParser(prog="python -m bot.db", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the SQLite file)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the schema to the newest revision")
    down = sub.add_parser("downgrade", help="downgrade the schema (default: drop everything)")
    down.add_argument("revision", nargs="?", default="base")
    seed_parser = sub.add_parser("seed", help="migrate, then build the sample data")
    seed_parser.add_argument("--residents", type=int, default=seed.DEFAULT_RESIDENTS)
    seed_parser.add_argument("--today", type=dt.date.fromisoformat, help="first slot day")
    seed_parser.add_argument("--force", action="store_true", help="rebuild the name registry")
    seed_parser.add_argument(
        "--if-empty",
        action="store_true",
        help="seed only an empty database; otherwise refresh the holidays and top up the slots",
    )
    demo = sub.add_parser(
        "demo-cases", help="print sample case numbers (one per stage) to try the lookup with"
    )
    demo.add_argument("--county", default="固安县", help="county of the sample cases")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    url = database_url(args.url)
    print(f"database: {_safe_url(url)}")
    if args.command == "downgrade":
        migrate.downgrade(url, args.revision)
        return 0
    if args.command == "demo-cases":
        return _print_demo_cases(url, args.county)
    migrate.upgrade(url)
    print("schema: up to date")
    if args.command == "seed" and args.if_empty and not seed.is_empty(url):
        added = seed.top_up_slots(url, today=args.today)
        print(f"database already seeded: holidays refreshed, {added} slots added up to the horizon")
        return 0
    if args.command == "seed":
        report = seed.seed(url, residents=args.residents, today=args.today, force=args.force)
        print(
            f"counties {report.counties}, windows {report.windows}, service points "
            f"{report.service_points}, holidays {report.holidays}, slots added "
            f"{report.slots_added}, cases {report.cases}, residents {report.residents} "
            f"({'rebuilt' if report.residents_rebuilt else 'already complete'}), "
            f"distinct names {report.name_counts}"
        )
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
        print(f"seed time {report.total_seconds:.1f}s ({timings})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
