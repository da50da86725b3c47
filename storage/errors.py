"""Errors of the storage layer.

StorageError
 ├── AlreadyHandled      this update_id was handled before (Telegram redelivered it): do nothing
 ├── StorageUnavailable  the database server cannot be reached now (also an OSError: callers
 │                       that retry or call a read UNREADABLE on a disk error do the same here)
 ├── IngestError         an upload could not be stored; nothing half-stored remains
 │    ├── EmptyFile      zero bytes arrived
 │    └── OverQuota      the case's storage quota would be exceeded
 └── ExportError         an export stopped; its scratch folder is already gone
      ├── NotEnoughDisk       too little free disk for the next part: tell the user, warn the operator
      └── ChangedDuringExport an original changed between its check and its packing: never shipped
(storage.crypto.CryptoError, IntegrityError and MasterKeyError live beside the cipher code.)
"""


class StorageError(Exception):
    pass


class AlreadyHandled(StorageError):
    pass


class StorageUnavailable(StorageError, OSError):
    pass


class IngestError(StorageError):
    pass


class EmptyFile(IngestError):
    pass


class OverQuota(IngestError):
    pass


class ExportError(StorageError):
    pass


class NotEnoughDisk(ExportError):
    def __init__(self, *, needed: int, free: int):
        super().__init__(f"{needed} bytes needed, {free} free")
        self.needed = needed
        self.free = free


class ChangedDuringExport(ExportError):
    pass
