"""Files and vector stores held in memory (M-7). Pure: the server streams uploads into :class:`UploadSink`."""

from __future__ import annotations

import builtins
import hashlib
import time
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

KEPT_CONTENT_BYTES = 1024 * 1024


class UploadTooLargeError(ValueError):
    pass


class UploadSink:
    """Hashes a whole upload while keeping at most 1 MiB of it."""

    def __init__(self, max_bytes: int) -> None:
        self.size = 0
        self.max_bytes = max_bytes
        self._sha = hashlib.sha256()
        self._kept = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise UploadTooLargeError(f"upload exceeds max_upload_bytes ({self.max_bytes})")
        self._sha.update(chunk)
        room = KEPT_CONTENT_BYTES - len(self._kept)
        if room > 0:
            self._kept += chunk[:room]

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    @property
    def content(self) -> bytes:
        return bytes(self._kept)


class StoredFile(msgspec.Struct, kw_only=True):
    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    sha256: str
    content_type: str
    content: builtins.bytes

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


class StoreFile(msgspec.Struct, kw_only=True):
    id: str
    vector_store_id: str
    status: str
    attributes: dict[str, Any] | None
    created_at: int
    last_error: dict[str, Any] | None
    usage_bytes: int

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "vector_store.file",
            "vector_store_id": self.vector_store_id,
            "status": self.status,
            "attributes": self.attributes,
            "created_at": self.created_at,
            "last_error": self.last_error,
        }


class VectorStore(msgspec.Struct, kw_only=True):
    id: str
    name: str | None
    created_at: int
    metadata: dict[str, Any] | None
    files: dict[str, StoreFile] = msgspec.field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0}
        for entry in self.files.values():
            counts[entry.status] = counts.get(entry.status, 0) + 1
        return {
            "id": self.id,
            "object": "vector_store",
            "created_at": self.created_at,
            "name": self.name,
            "metadata": self.metadata,
            "status": "completed",
            "file_counts": {**counts, "total": len(self.files)},
            "usage_bytes": sum(entry.usage_bytes for entry in self.files.values()),
        }


class FileStore:
    """Everything ``POST /_mock/reset`` forgets about files and stores."""

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self.stores: dict[str, VectorStore] = {}

    def clear(self) -> None:
        self.files.clear()
        self.stores.clear()

    def add_file(self, filename: str, purpose: str, content_type: str, upload: UploadSink) -> StoredFile:
        stored = StoredFile(
            id=f"file-{uuid.uuid4().hex}",
            filename=filename,
            purpose=purpose,
            bytes=upload.size,
            created_at=int(time.time()),
            sha256=upload.sha256,
            content_type=content_type,
            content=upload.content,
        )
        self.files[stored.id] = stored
        return stored

    def create_store(self, name: str | None, metadata: dict[str, Any] | None) -> VectorStore:
        store = VectorStore(
            id=f"vs_{uuid.uuid4().hex}", name=name, created_at=int(time.time()), metadata=metadata
        )
        self.stores[store.id] = store
        return store

    def add_to_store(
        self, store: VectorStore, file: StoredFile, attributes: dict[str, Any] | None, status: str
    ) -> StoreFile:
        last_error = (
            {"code": "server_error", "message": "mock: file processing failed"}
            if status == "failed"
            else None
        )
        entry = StoreFile(
            id=file.id,
            vector_store_id=store.id,
            status=status,
            attributes=attributes,
            created_at=int(time.time()),
            last_error=last_error,
            usage_bytes=file.bytes if status == "completed" else 0,
        )
        store.files[file.id] = entry
        return entry

    def files_in_stores(self, store_ids: Sequence[str]) -> list[tuple[str, str]]:
        """Citable ``(file_id, filename)`` pairs: completed files of the given stores, in insertion order."""
        seen: dict[str, str] = {}
        for store_id in store_ids:
            store = self.stores.get(store_id)
            for entry in store.files.values() if store else ():
                file = self.files.get(entry.id)
                if entry.status == "completed" and file is not None:
                    seen.setdefault(file.id, file.filename)
        return list(seen.items())
