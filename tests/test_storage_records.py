"""The case record: features keep sealed JSON beside the evidence, erased with the case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.base import CaseKey
from tests.backends import at_rest, db_run
from tests.conftest import files_containing

MARKER = "他们又打给我爸了-marker-7731"


async def test_records_are_sealed_numbered_listed_changed_and_deleted(storage, data_dir):
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(5), "zh-CN", "welcome")
        first = await tx.record_add(case, "incident", {"note": MARKER, "who": "parents"})
        second = await tx.record_add(case, "incident", {"note": "second"})
        assert (first, second) == (1, 2)
        assert await tx.record_add(case, "facts", {"app": "x"}) == 1, "numbers count per kind"
    assert not files_containing(await at_rest(storage), MARKER.encode()), "sealed at rest, WAL included"
    async with storage.transaction() as tx:
        assert [rid for rid, _ in await tx.record_list(case, "incident")] == [1, 2]
        assert await tx.record_put(case, "incident", 1, {"note": "changed"})
        assert (await tx.record_get(case, "incident", 1)) == {"note": "changed"}
        assert await tx.record_delete(case, "incident", 2)
        assert await tx.record_get(case, "incident", 2) is None
        assert not await tx.record_delete(case, "incident", 2)


async def test_a_body_moved_to_another_case_does_not_open(storage):
    import pytest

    from storage.crypto import IntegrityError

    async with storage.transaction() as tx:
        a = await tx.case(CaseKey(1), "zh-CN", "welcome")
        b = await tx.case(CaseKey(2), "zh-CN", "welcome")
        await tx.record_add(a, "facts", {"amount": 3000})
        await tx.record_add(b, "facts", {"amount": 1})
    await db_run(
        storage,
        "UPDATE records SET body = (SELECT body FROM records WHERE case_id = ?) WHERE case_id = ?",
        (a.id, b.id),
    )
    async with storage.transaction() as tx:
        with pytest.raises(IntegrityError):
            await tx.record_get(b, "facts", 1)


async def test_due_records_and_lookup_tokens_find_their_case(storage):
    now = datetime.now(UTC)
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(9), "zh-CN", "welcome")
        await tx.record_add(case, "reminder", {"what": "soon"}, due_at=now - timedelta(minutes=1))
        await tx.record_add(case, "reminder", {"what": "later"}, due_at=now + timedelta(days=3))
        await tx.record_add(case, "invitation", {"for": "妈妈"}, lookup="secret-token")
    due = await storage.due_records("reminder", now)
    assert [(d.case.chat_id, d.rid) for d in due] == [(9, 1)]
    found = await storage.find_record("invitation", "secret-token")
    assert found and found.case.chat_id == 9 and found.rid == 1
    assert await storage.find_record("invitation", "guess") is None
    rows = await db_run(storage, "SELECT lookup FROM records WHERE lookup IS NOT NULL")
    assert all(b"secret-token" not in bytes(r[0]) for r in rows), "only a keyed hash of the token is kept"


async def test_deleting_the_case_erases_its_record(storage, data_dir):
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(3), "zh-CN", "welcome")
        await tx.record_add(case, "incident", {"note": MARKER})
    async with storage.transaction() as tx:
        await tx.case_delete(case)
    ((count,),) = await db_run(storage, "SELECT COUNT(*) FROM records")
    assert count == 0
