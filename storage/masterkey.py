"""Where the master key comes from, and the refusals that keep it from being lost or exposed.

``SHOUHU_MASTER_KEY`` (base64 of 32 bytes) wins. Without it the key lives in a file,
``SHOUHU_KEY_FILE`` (default ``~/.config/shouhu/master.key``, mode 0600 in a 0700 folder):

* outside the data directory by default, because a copy of the data directory together with its
  key reads everything. A key file inside it is refused unless ``SHOUHU_KEY_IN_DATA_DIR=1``
  says the operator means it (then a warning goes to the log at every start);
* created only when the database holds nothing sealed. A missing key file beside a database
  with cases or journaled updates is a lost key, not a first run: the bot refuses to start and
  writes no new file (which would make the loss look like a fresh start);
* never overwritten: written to a temporary name with ``O_EXCL``, fsynced, then linked;
* replaced only by ``python bot.py rotate-key`` (``storage.rotate``), which writes the new key
  beside it (``master.key.new``) before the database changes and moves it into place after. A
  ``.new`` file found at start means a rotation was interrupted: the bot refuses to start until
  ``rotate-key`` is run again and finishes or undoes it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from storage.crypto import KEY_SIZE, MasterKeyError

log = logging.getLogger(__name__)

MASTER_KEY_ENV = "SHOUHU_MASTER_KEY"
KEY_FILE_ENV = "SHOUHU_KEY_FILE"
IN_DATA_DIR_ENV = "SHOUHU_KEY_IN_DATA_DIR"
LEGACY_NAME = "master.key"  # where versions before the key file setting kept it: <data>/master.key
GENERATE_HINT = "generate one with: python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'"


def default_key_file() -> Path:
    return Path.home() / ".config" / "shouhu" / "master.key"


def pending_key_file(key_file: Path) -> Path:
    """Where a rotation keeps the new key until the database is sealed under it."""
    key_file = key_file.expanduser()
    return key_file.with_name(key_file.name + ".new")


@dataclass(frozen=True)
class KeySource:
    """Where to look for the master key (built from Settings)."""

    env_value: str | None = field(default=None, repr=False)
    key_file: Path = field(default_factory=default_key_file)
    allow_in_data_dir: bool = False


def decode_key(text: str) -> bytes | None:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_SIZE else None


def _inside(path: Path, folder: Path) -> bool:
    return path.expanduser().resolve().is_relative_to(folder.expanduser().resolve())


def load_master_key(source: KeySource, data_dir: Path, *, holds: str = "") -> bytes:
    """The 32-byte master key, or MasterKeyError with a sentence for the operator.

    ``holds`` names what the database already keeps sealed ("3 case(s)"); empty for a database
    with nothing sealed, the only case in which a missing key file is created.
    """
    if source.env_value is not None:
        key = decode_key(source.env_value)
        if key is None:
            raise MasterKeyError(
                f"{MASTER_KEY_ENV} must be base64 of 32 bytes; {GENERATE_HINT} "
                f"(or unset {MASTER_KEY_ENV} to use the key file {source.key_file})."
            )
        return key

    path = source.key_file.expanduser()
    if pending_key_file(path).exists():
        raise MasterKeyError(
            f"A key rotation was interrupted: {pending_key_file(path)} exists beside the key file. Run "
            f"'python bot.py rotate-key' again; it finishes the rotation (or undoes it, if the database was "
            f"not changed yet). Do not delete either file."
        )
    if _inside(path, data_dir):
        if not source.allow_in_data_dir:
            raise MasterKeyError(
                f"The master key file {path} is inside the data directory {data_dir}: a copy of that "
                f"directory could read every case. Set {KEY_FILE_ENV} to a path outside it (the default "
                f"is {default_key_file()}), or set {IN_DATA_DIR_ENV}=1 to keep it there knowingly."
            )
        log.warning(
            "the master key file is inside the data directory (%s=1): a copy of %s reads every case",
            IN_DATA_DIR_ENV,
            data_dir,
        )
    if not path.exists():
        legacy = Path(data_dir) / LEGACY_NAME
        if legacy.exists() and legacy.resolve() != path.resolve():
            raise MasterKeyError(
                f"The master key is at {legacy}, inside the data directory, where earlier versions kept it; "
                f"the bot now reads it from {path}. Move it there (mkdir -m 700 -p {path.parent} && mv {legacy} "
                f"{path}), or set {KEY_FILE_ENV}={legacy} and {IN_DATA_DIR_ENV}=1 to keep it where it is."
            )
        if holds:
            raise MasterKeyError(
                f"The master key file {path} does not exist, but the database in {data_dir} holds {holds}. "
                f"A new key would not open them, so none was created. Restore the key file from your backup, "
                f"set {KEY_FILE_ENV} to where it is, or set {MASTER_KEY_ENV} to the key this data was created with."
            )
        _create(path)
        log.info("created a new master key file at %s; back it up: without it no case can be read", path)
    return _read(path)


def read_key_file(path: Path) -> bytes:
    """The key in ``path`` (MasterKeyError if it cannot be read or is not a key)."""
    return _read(path.expanduser())


def write_new_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path``, which must not exist (0600, fsynced, folder fsynced)."""
    _create(path.expanduser(), key)


def _read(path: Path) -> bytes:
    try:
        st = os.stat(path)
        if stat.S_IMODE(st.st_mode) & 0o077:
            log.warning(
                "%s has permissions %o; other users may read the master key. Tightening to 0600.",
                path,
                stat.S_IMODE(st.st_mode),
            )
            try:
                os.chmod(path, 0o600)
            except OSError as exc:
                log.warning("Could not chmod %s to 0600: %s", path, exc)
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(
            f"Cannot read the master key file {path}: {exc}. Fix its permissions, or set {MASTER_KEY_ENV}."
        ) from exc
    key = decode_key(text)
    if key is None:
        raise MasterKeyError(
            f"The master key file {path} does not contain base64 of 32 bytes; it may be damaged. Restore it "
            f"from your backup. Do not delete or replace it: evidence sealed under the old key could no "
            f"longer be opened."
        )
    return key


def _create(path: Path, key: bytes | None = None) -> None:
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
            os.chmod(folder, 0o700)  # whatever the umask did
        elif stat.S_IMODE(folder.stat().st_mode) & 0o077:
            log.warning(
                "the folder %s of the master key is open to other users (mode %o); consider chmod 700",
                folder,
                stat.S_IMODE(folder.stat().st_mode),
            )
        tmp = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
        line = base64.b64encode(key if key is not None else os.urandom(KEY_SIZE)) + b"\n"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                os.fchmod(fd, 0o600)  # in case the umask or the file system did something odd
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            _place_without_overwrite(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(folder)
    except OSError as exc:
        raise MasterKeyError(
            f"Cannot create the master key file {path}: {exc}. Make {folder} writable, "
            f"set {KEY_FILE_ENV} to another place, or set {MASTER_KEY_ENV}."
        ) from exc


def _place_without_overwrite(tmp: Path, path: Path) -> None:
    """Atomically make ``tmp`` appear at ``path`` unless ``path`` already exists."""
    try:
        os.link(tmp, path)  # atomic, and fails if path exists
    except FileExistsError:
        log.info("%s was created concurrently; using the existing key.", path)
    except OSError:
        # A file system without hard links: rename is atomic but would replace an existing
        # file, so check first (a narrow race remains only here).
        if not path.exists():
            os.rename(tmp, path)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
