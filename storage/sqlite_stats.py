"""/stats (SQLite, and PostgreSQL through storage.pg_compat): counts straight from the columns that are stored in the clear (locale, node,
times, sizes, record kinds). Nothing sealed is opened and no chat id is selected."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.base import Stats
from storage.sqlite_conn import Connection
from storage.sqlite_tx import iso


async def read_stats(db: Connection, now: datetime) -> Stats:
    async with db.execute("SELECT locale, node, COUNT(*) FROM cases GROUP BY locale, node") as cur:
        by_node = {(row[0], row[1]): int(row[2]) async for row in cur}
    async with db.execute(
        "SELECT COALESCE(SUM(CASE WHEN updated_at >= ? THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN updated_at >= ? THEN 1 ELSE 0 END), 0) FROM cases",
        (iso(now - timedelta(days=7)), iso(now - timedelta(days=30))),
    ) as cur:
        active = await cur.fetchone()
    async with db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM evidence") as cur:
        evidence = await cur.fetchone()
    async with db.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind") as cur:
        records = {row[0]: int(row[1]) async for row in cur}
    assert active is not None and evidence is not None
    return Stats(
        cases=sum(by_node.values()),
        cases_by_node=by_node,
        active_7d=int(active[0]),
        active_30d=int(active[1]),
        evidence_items=int(evidence[0]),
        evidence_bytes=int(evidence[1]),
        records=records,
    )
