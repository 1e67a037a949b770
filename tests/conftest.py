"""Test-wide configuration: the shared real-bot fixtures and the order of slow tests.

``tests/servers.py`` is loaded as a plugin so that ``rasa_bot`` (one ``rasa run`` with the
model under test) has a single definition shared by every folder. Tests marked
``stops_bot`` stop the Rasa server itself; they run after all other tests, so the bot is
loaded once per session instead of once more after each of them.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.servers"]

# endpoints.yml reads the action server's shared secret from the environment.
os.environ.setdefault("ACTION_SERVER_TOKEN", "tests-only-action-server-token")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the tests that stop the Rasa server to the end of the run (stable order)."""
    items.sort(key=lambda item: item.get_closest_marker("stops_bot") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI a skip is a failure: every skip here means a service, tool or model is missing."""
    import os

    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI (a required service is missing): {reason}"
