"""Errors of the storage layer.

    StorageError
     ├── AlreadyHandled      this update_id was handled before (Telegram redelivered it): do nothing
     └── IngestError         an upload could not be stored; nothing half-stored remains
          ├── EmptyFile      zero bytes arrived
          └── OverQuota      the case's storage quota would be exceeded
    (storage.crypto.CryptoError and its IntegrityError live beside the cipher code.)
"""


class StorageError(Exception):
    pass


class AlreadyHandled(StorageError):
    pass


class IngestError(StorageError):
    pass


class EmptyFile(IngestError):
    pass


class OverQuota(IngestError):
    pass
