"""Newborn duplicate-name check: how many registered residents hold a full name.

Reads the ``name_counts`` aggregate (one primary-key lookup, well under a millisecond), so the
check stays fast on the 500,000-row registry. Only counts leave this module, never a holder.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.db.models import NameCount, Resident
from bot.db.queries.audit import record_lookup

#: At or above this many holders (of the requested gender, if given) a name is "重名较多".
MANY_HOLDERS = 10


@dataclass(frozen=True)
class NameHolders:
    """Holders of one full name in the registry."""

    full_name: str
    total: int
    male: int
    female: int

    def count(self, gender: str | None = None) -> int:
        """Holders of the given gender (``male``/``female``), or all holders.

        Args:
            gender: ``male``, ``female`` or None.

        Returns:
            The count.

        """
        if gender == "male":
            return self.male
        if gender == "female":
            return self.female
        return self.total

    def verdict(self, gender: str | None = None) -> str:
        """Plain-language verdict: ``重名较多``, ``重名较少`` or ``暂无重名``.

        Args:
            gender: restrict to one gender.

        Returns:
            The verdict.

        """
        count = self.count(gender)
        if count >= MANY_HOLDERS:
            return "重名较多"
        if count > 0:
            return "重名较少"
        return "暂无重名"


def count_holders(session: Session, full_name: str) -> NameHolders:
    """Count holders of ``full_name`` (by gender) from the aggregate table.

    Args:
        session: open session.
        full_name: a validated full name.

    Returns:
        The counts (zeros if nobody holds the name).

    """
    row = session.get(NameCount, full_name)
    if row is None:
        return NameHolders(full_name, 0, 0, 0)
    return NameHolders(full_name, row.total, row.male, row.female)


def count_holders_live(session: Session, full_name: str) -> NameHolders:
    """Count holders directly on ``residents`` (index scan; for checks of the aggregate).

    Args:
        session: open session.
        full_name: a validated full name.

    Returns:
        The counts.

    """
    stmt = (
        select(Resident.gender, func.count())
        .where(Resident.full_name == full_name)
        .group_by(Resident.gender)
    )
    counts = dict(session.execute(stmt).all())
    male, female = int(counts.get("male", 0)), int(counts.get("female", 0))
    return NameHolders(full_name, male + female, male, female)


def check_name(session: Session, conversation_id: str, full_name: str) -> NameHolders:
    """Count the holders of a name and audit the lookup (the name itself is not stored).

    Args:
        session: open session (the caller commits).
        conversation_id: the Rasa sender id.
        full_name: a validated full name.

    Returns:
        The counts.

    """
    holders = count_holders(session, full_name)
    if session.get_bind().dialect.name == "postgresql":
        # The audit row of a name check need not wait for the WAL flush (it is not a security
        # control like the case-lookup audit); this keeps the check's p99 low under load.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    record_lookup(session, "name_check", conversation_id, "ok")
    return holders
