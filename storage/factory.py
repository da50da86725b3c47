"""Which storage backend a deployment uses: the one place adapters get their ``Storage`` from.

SQLite is the only backend today; a database URL setting will choose PostgreSQL here, and
nothing in flows/ or handlers/ changes.
"""

from __future__ import annotations

from config import Settings
from storage.base import Storage
from storage.sqlite import SqliteStorage


async def open_storage(settings: Settings) -> Storage:
    return await SqliteStorage.open(
        settings.data_dir, settings.master_key, key_file=settings.key_file, key_in_data_dir=settings.key_in_data_dir
    )
