"""The master key: where it lives, when a key file may be created, and the sentences an
operator reads when it is missing, misplaced or wrong (#10.7, #10.13)."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

import pytest

from storage.base import CaseKey
from storage.crypto import MasterKeyError
from storage.masterkey import KeySource, load_master_key
from storage.sqlite import SqliteStorage


@pytest.fixture
def umask_zero():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _source(tmp_path: Path, **kw) -> KeySource:
    return KeySource(key_file=tmp_path / "config" / "shouhu" / "master.key", **kw)


# ----------------------------------------------------------------------------- the key file itself


def test_key_file_created_once_0600_in_a_0700_folder(tmp_path, umask_zero, caplog):
    source = _source(tmp_path)
    with caplog.at_level(logging.WARNING, logger="storage.masterkey"):
        key = load_master_key(source, tmp_path / "data")
    assert not caplog.records  # created 0600 from the start, not tightened afterwards
    path = source.key_file
    assert len(key) == 32 and base64.b64decode(path.read_text().strip(), validate=True) == key
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700  # even with umask 0
    assert os.listdir(path.parent) == ["master.key"]  # no temp file left behind
    before = path.read_bytes()
    assert load_master_key(source, tmp_path / "data") == key
    assert path.read_bytes() == before  # never overwritten


def test_existing_key_file_is_used_and_loose_mode_tightened(tmp_path, caplog):
    source = _source(tmp_path)
    source.key_file.parent.mkdir(parents=True)
    key = os.urandom(32)
    source.key_file.write_text(_b64(key) + "\n")
    os.chmod(source.key_file, 0o644)
    with caplog.at_level(logging.WARNING, logger="storage.masterkey"):
        assert load_master_key(source, tmp_path / "data") == key
    assert _mode(source.key_file) == 0o600
    assert any("master.key" in r.getMessage() for r in caplog.records)


def test_damaged_key_file_is_not_replaced(tmp_path):
    source = _source(tmp_path)
    source.key_file.parent.mkdir(parents=True)
    source.key_file.write_text("not a key\n")
    with pytest.raises(MasterKeyError, match="backup"):
        load_master_key(source, tmp_path / "data")
    assert source.key_file.read_text() == "not a key\n"


def test_env_key_wins_and_no_file_is_created(tmp_path):
    key = os.urandom(32)
    source = _source(tmp_path, env_value=_b64(key) + "\n")
    assert load_master_key(source, tmp_path / "data", holds="3 case(s)") == key
    assert not source.key_file.exists()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "abc",
        "not base64 at all!",
        base64.b64encode(os.urandom(31)).decode(),
        base64.b64encode(os.urandom(33)).decode(),
        os.urandom(32).hex(),  # hex, not base64
    ],
)
def test_bad_env_key_explains_how_to_generate_one(tmp_path, value):
    source = _source(tmp_path, env_value=value)
    with pytest.raises(MasterKeyError) as info:
        load_master_key(source, tmp_path / "data")
    message = str(info.value)
    assert "SHOUHU_MASTER_KEY must be base64 of 32 bytes" in message
    assert "os.urandom(32)" in message and "b64encode" in message
    assert not source.key_file.exists()  # no silent fallback


# ----------------------------------------------------------------------------- the key beside the lock


def test_a_key_file_inside_the_data_dir_is_refused_unless_meant(tmp_path, caplog):
    data = tmp_path / "data"
    inside = KeySource(key_file=data / "keys" / "master.key")
    with pytest.raises(MasterKeyError) as info:
        load_master_key(inside, data)
    assert "inside the data directory" in str(info.value) and "SHOUHU_KEY_IN_DATA_DIR=1" in str(info.value)
    assert not inside.key_file.exists()
    meant = KeySource(key_file=data / "keys" / "master.key", allow_in_data_dir=True)
    with caplog.at_level(logging.WARNING, logger="storage.masterkey"):
        assert len(load_master_key(meant, data)) == 32
    assert any("inside the data directory" in r.getMessage() for r in caplog.records)


async def test_a_key_left_in_the_old_place_is_not_replaced_by_a_new_one(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "master.key").write_text(_b64(os.urandom(32)) + "\n")
    source = _source(tmp_path)
    with pytest.raises(MasterKeyError) as info:
        await SqliteStorage.open(data, key_file=source.key_file)
    message = str(info.value)
    assert str(data / "master.key") in message and str(source.key_file) in message and "mv " in message
    assert not source.key_file.exists()


# ----------------------------------------------------------------------------- a lost key is not a first run


async def _data_with_a_case(data: Path, key_file: Path) -> None:
    s = await SqliteStorage.open(data, key_file=key_file)
    try:
        await s.ensure_case(CaseKey(9), "zh-CN", "welcome")
    finally:
        await s.close()


async def test_lost_key_file_with_cases_refuses_and_creates_nothing(tmp_path):
    data, source = tmp_path / "data", _source(tmp_path)
    await _data_with_a_case(data, source.key_file)
    source.key_file.unlink()
    with pytest.raises(MasterKeyError) as info:
        await SqliteStorage.open(data, key_file=source.key_file)
    message = str(info.value)
    assert "does not exist" in message and "1 case(s)" in message and "none was created" in message
    assert not source.key_file.exists(), "no new key written over a database that needs the old one"


async def test_lost_key_file_with_updates_in_the_journal_refuses(tmp_path):
    data, source = tmp_path / "data", _source(tmp_path)
    s = await SqliteStorage.open(data, key_file=source.key_file)
    await s.journal(500, {"update_id": 500})
    await s.close()
    source.key_file.unlink()
    with pytest.raises(MasterKeyError, match="waiting in the journal"):
        await SqliteStorage.open(data, key_file=source.key_file)
    assert not source.key_file.exists()


async def test_wrong_key_is_checked_against_the_journal_when_there_is_no_case(tmp_path):
    data = tmp_path / "data"
    s = await SqliteStorage.open(data, _b64(b"a" * 32))
    await s.journal(500, {"update_id": 500})
    await s.close()
    with pytest.raises(MasterKeyError, match="does not open the updates waiting in the journal"):
        await SqliteStorage.open(data, _b64(b"b" * 32))
    again = await SqliteStorage.open(data, _b64(b"a" * 32))
    try:
        assert [u["update_id"] for u in await again.pending_updates()] == [500]
    finally:
        await again.close()


async def test_wrong_key_with_cases_names_where_the_key_came_from(tmp_path):
    data, source = tmp_path / "data", _source(tmp_path)
    await _data_with_a_case(data, source.key_file)
    with pytest.raises(MasterKeyError) as info:
        await SqliteStorage.open(data, _b64(b"z" * 32), key_file=source.key_file)
    assert "does not open the cases" in str(info.value) and "SHOUHU_MASTER_KEY" in str(info.value)
