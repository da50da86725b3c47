"""Shared fixtures: the real content, a fresh data dir, storage and the engine."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from flows.content import load_content
from flows.engine import Engine
from storage.db import Storage

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "content"
MASTER_KEY = base64.b64encode(b"k" * 32).decode()


@pytest.fixture(scope="session")
def content():
    return load_content(CONTENT_DIR)


@pytest.fixture(scope="session")
def zh(content):
    return content.locale("zh-CN")


@pytest.fixture
def engine(content):
    return Engine(content)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
async def storage(data_dir):
    s = await Storage.open(data_dir, MASTER_KEY)
    yield s
    await s.close()


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle``."""
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            if needle in p.read_bytes():
                found.append(p)
    return found
