"""API methods and helpers for files: what the bot uploads, and getFile for what users sent.

Cloud mode (the default) imitates api.telegram.org: uploads up to 50 MB, getFile up to
20 MB, downloads through ``/file/bot<token>/<file_path>``.  ``local_mode`` imitates a
``telegram-bot-api --local`` server: uploads up to 2000 MB or as ``file://`` URIs, any
size for getFile, and ``file_path`` is an absolute path on disk.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.fakes.call import Call, api_method
from tests.fakes.protocol import (
    MAX_DOWNLOAD_SIZE,
    MAX_UPLOAD_SIZE,
    MAX_UPLOAD_SIZE_LOCAL,
    ApiError,
    NotImplementedByFake,
    bad,
)
from tests.fakes.records import FILE_ID_PREFIX, FOLDERS, FileRecord
from tests.fakes.state import ServerState

_WRONG_FILE = "wrong file identifier/HTTP URL specified"


class FileMethods(ServerState):
    @api_method("getFile")
    def _api_get_file(self, call: Call) -> dict[str, Any]:
        """Cloud mode: files over 20 MB -> "file is too big"; file_path is relative and is
        served at /file/bot<token>/<file_path>.  Local mode: any size; file_path is the absolute
        path on disk (PTB then reads the file directly)."""
        file_id = call.get("file_id").strip()
        if not file_id:
            raise bad("file_id not specified")
        with self._lock:
            record = self._files.get(file_id)
            if record is None:
                raise bad("invalid file_id")
            if not self.local_mode and record.size > MAX_DOWNLOAD_SIZE:
                raise bad("file is too big")
            if record.file_path is None:
                if self.local_mode:
                    record.file_path = self._materialize(record)
                else:
                    record.file_path = f"{FOLDERS[record.kind]}/file_{record.number}{record.extension}"
                self._paths[record.file_path] = record
            return record.fields(file_path=record.file_path)

    def _input_file(self, call: Call, field: str) -> FileRecord:
        """The file a send method names in ``field``: an upload (multipart, ``attach://``),
        in local mode a ``file://`` URI, or the file_id of a file Telegram already has."""
        value = call.get(field)
        upload = call.files.get(field)
        if upload is None and value.startswith("attach://"):
            upload = call.files.get(value[len("attach://") :])
        if upload is not None:
            limit = MAX_UPLOAD_SIZE_LOCAL if self.local_mode else MAX_UPLOAD_SIZE
            if len(upload.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not upload.data:
                raise bad("file must be non-empty")
            name = upload.filename or field
            mime = upload.content_type
            if mime in ("", "application/octet-stream", "text/plain"):
                mime = mimetypes.guess_type(name, strict=False)[0] or mime or "application/octet-stream"
            return self._new_file(field, data=upload.data, file_name=name, mime_type=mime)
        value = value.strip()
        if not value:
            raise bad(f"there is no {field.replace('_', ' ')} in the request")
        if value.startswith("file://"):
            return self._local_file(field, value)
        if re.match(r"^https?://", value):
            raise NotImplementedByFake(f"{field} by HTTP URL ({value}) is not implemented by the fake", _WRONG_FILE)
        with self._lock:
            record = self._files.get(value)
        if record is None:
            raise bad(_WRONG_FILE)
        if record.kind == "photo" and field != "photo":
            raise bad(f"can't use file of type Photo as {field.capitalize()}")
        return record

    def _local_file(self, field: str, uri: str) -> FileRecord:
        """A ``file://`` upload of a local server: the file is taken during the request (the
        bot may delete it right after)."""
        if not self.local_mode:
            raise bad(_WRONG_FILE)
        path = unquote(urlsplit(uri).path)
        if not os.path.isfile(path):
            raise bad(_WRONG_FILE)
        name = os.path.basename(path)
        with self._lock:
            taken = os.path.join(self._scratch_dir(), f"upload-{len(self._files)}-{name}")
        shutil.copyfile(path, taken)
        mime = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        return self._new_file(field, path=taken, file_name=name, mime_type=mime)

    def _new_file(
        self,
        kind: str,
        *,
        data: bytes | None = None,
        path: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> FileRecord:
        with self._lock:
            self._file_counter += 1
            n = self._file_counter
            if path is not None:
                path = os.path.abspath(path)
                size = os.path.getsize(path)
            else:
                assert data is not None
                size = len(data)
            digest = hashlib.sha256(f"{self.token}/{n}".encode()).hexdigest()
            record = FileRecord(
                file_id=f"{FILE_ID_PREFIX[kind]}{n:05d}{digest[:40]}",
                file_unique_id=f"AgAD{n:05d}{digest[40:48]}",
                kind=kind,
                size=size,
                number=n,
                data=data,
                path=path,
                file_name=file_name,
                mime_type=mime_type,
            )
            self._files[record.file_id] = record
            return record

    def _scratch_dir(self) -> str:
        """The fake's temporary folder (removed by ``stop``)."""
        with self._lock:
            if self._tmpdir is None:
                self._tmpdir = tempfile.mkdtemp(prefix="fake-botapi-")
            return self._tmpdir

    def _materialize(self, record: FileRecord) -> str:
        """Local mode: a file's absolute path on disk (bytes are written to a temp dir once)."""
        if record.path is not None:
            return record.path
        if record.materialized is None:
            folder = Path(self._scratch_dir(), FOLDERS[record.kind])
            folder.mkdir(exist_ok=True)
            target = folder / f"file_{record.number}{record.extension}"
            target.write_bytes(record.data or b"")
            record.materialized = str(target)
        return record.materialized


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG, None if it is neither (what the fake can check)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(data[i + 5 : i + 7], "big")
            i += 2 + length
    return None
