"""The action server, started with personal numbers masked in its logs.

``python -m bot.action_server [--port 5055]`` is ``rasa run actions --actions actions`` plus
:func:`bot.logmask.install`, so no phone or ID number reaches a log line in full.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, install the masking log filter and serve the actions."""
    from rasa_sdk import endpoint

    from bot import logmask

    parser = argparse.ArgumentParser(prog="python -m bot.action_server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logmask.install()
    endpoint.run(action_package_name=args.actions, port=args.port)


if __name__ == "__main__":
    main()
