"""Grouping of the inbox's question texts into clusters of similar questions, in the database.

Every distinct normalised text has one ``console_texts`` row (cluster key "" until grouped);
:func:`group_new_texts` assigns the waiting ones with :class:`bot.console.clustering.Clusterer`
(kept in memory between syncs, refitted as the corpus grows), creates ``console_clusters`` for
new groups (labelled with their first question) and copies the keys onto ``console_items``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console import clustering
from bot.console.db import ConsoleDB
from bot.console.models import ConsoleCluster, ConsoleItem, ConsoleText

CHUNK = 500


def register_texts(session: Session, seen: dict[str, dt.datetime]) -> dict[str, str]:
    """Group keys of the given normalised texts, registering unknown ones (key "").

    Args:
        session: app database session.
        seen: normalised text → when it was first seen (naive UTC).

    Returns:
        normalised text → cluster key ("" for texts not grouped yet).

    """
    keys: dict[str, str] = {}
    norms = list(seen)
    for start in range(0, len(norms), CHUNK):
        chunk = norms[start : start + CHUNK]
        for norm, key in session.execute(
            sa.select(ConsoleText.norm_text, ConsoleText.cluster_key).where(
                ConsoleText.norm_text.in_(chunk)
            )
        ):
            keys[str(norm)] = str(key)
    missing: list[dict[str, Any]] = [
        {"norm_text": n, "cluster_key": "", "first_seen": seen[n]} for n in norms if n not in keys
    ]
    if missing:
        session.execute(sa.insert(ConsoleText), missing)
        keys.update({m["norm_text"]: "" for m in missing})
    return keys


def _clusterer(db: ConsoleDB, session: Session) -> clustering.Clusterer:
    cache = db.cluster_cache
    threshold = db.settings.cluster_threshold
    model: clustering.Clusterer | None = cache.get("model")
    if model is None or cache.get("threshold") != threshold:
        model = clustering.Clusterer(threshold=threshold)
        cache["model"] = model
        cache["threshold"] = threshold
    corpus_size = session.execute(sa.select(sa.func.count()).select_from(ConsoleText)).scalar()
    if model.needs_refit(int(corpus_size or 0)):
        corpus = [t for (t,) in session.execute(sa.select(ConsoleText.norm_text))]
        leaders = [
            (str(k), clustering.normalise(str(label)))
            for k, label in session.execute(sa.select(ConsoleCluster.key, ConsoleCluster.label))
        ]
        model.load(corpus, leaders)
    return model


def _labels(session: Session, norms: list[str]) -> dict[str, str]:
    """The first question text (masked) of each normalised text: a new group's label."""
    labels: dict[str, str] = {}
    for start in range(0, len(norms), CHUNK):
        for norm, text in session.execute(
            sa.select(ConsoleItem.norm_text, ConsoleItem.text).where(
                ConsoleItem.norm_text.in_(norms[start : start + CHUNK])
            )
        ):
            labels.setdefault(str(norm), str(text))
    return labels


def group_new_texts(db: ConsoleDB) -> int:
    """Assign every waiting text to a group (new groups for new topics).

    Args:
        db: the console's database handles (settings hold the similarity threshold).

    Returns:
        The number of texts grouped.

    """
    with db.session() as session:
        pending = (
            session.execute(
                sa.select(ConsoleText)
                .where(ConsoleText.cluster_key == "")
                .order_by(ConsoleText.first_seen)
            )
            .scalars()
            .all()
        )
        if not pending:
            return 0
        assigned = _clusterer(db, session).assign([p.norm_text for p in pending])
        new_norms = [p.norm_text for p, (_, new) in zip(pending, assigned, strict=True) if new]
        labels = _labels(session, new_norms)
        clusters: list[dict[str, str]] = []
        for text_row, (key, is_new) in zip(pending, assigned, strict=True):
            text_row.cluster_key = key
            if is_new:
                label = labels.get(text_row.norm_text, text_row.norm_text)
                clusters.append({"key": key, "label": label})
        session.flush()
        if clusters:
            session.execute(sa.insert(ConsoleCluster), clusters)
        texts = ConsoleText.__table__
        items = ConsoleItem.__table__
        session.execute(
            sa.update(items)
            .where(items.c.cluster_key == "")
            .values(
                cluster_key=sa.select(texts.c.cluster_key)
                .where(texts.c.norm_text == items.c.norm_text)
                .scalar_subquery()
            )
        )
        return len(pending)


def regroup_all(db: ConsoleDB) -> int:
    """Forget every group and group all known texts again (after changing the threshold).

    Args:
        db: the console's database handles.

    Returns:
        The number of groups afterwards.

    """
    with db.sync_lock:
        with db.session() as session:
            session.execute(sa.update(ConsoleText).values(cluster_key=""))
            session.execute(sa.delete(ConsoleCluster))
        db.cluster_cache.clear()
        group_new_texts(db)
    with db.session() as session:
        count = session.execute(sa.select(sa.func.count()).select_from(ConsoleCluster)).scalar()
    return int(count or 0)
