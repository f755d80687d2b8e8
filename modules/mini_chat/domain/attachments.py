"""Attachment rules of C-13: file names, MIME and kind, purpose, size caps, and the AttachmentDetail view."""

from __future__ import annotations

import base64
import posixpath
from typing import Literal

import msgspec

from ..config import RagConfig
from ..sdk import KillSwitches, ModelCatalogEntry
from .errors import CodeInterpreterUnavailable, UnsupportedFileType
from .ids import format_rfc3339
from .ports import AttachmentRecord

Kind = Literal["document", "image"]
Purpose = Literal["file_search", "code_interpreter", "none"]
KIB = 1024
MIB = 1024 * 1024
# C-13.3: a request this much larger than the cap is refused before its body is read (multipart framing).
CONTENT_LENGTH_SLACK = 64 * KIB
MAX_FILENAME = 255
DEFAULT_FILENAME = "upload"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# C-13's table: MIME → (kind, purpose), and the extensions that name each type.
_TYPES: dict[str, tuple[Kind, Purpose, tuple[str, ...]]] = {
    "application/pdf": ("document", "file_search", (".pdf",)),
    "text/plain": ("document", "file_search", (".txt",)),
    "text/markdown": ("document", "file_search", (".md", ".markdown")),
    "text/html": ("document", "file_search", (".html", ".htm")),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "document",
        "file_search",
        (".docx",),
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "document",
        "file_search",
        (".pptx",),
    ),
    "application/json": ("document", "file_search", (".json",)),
    "text/x-python": ("document", "file_search", (".py",)),
    "text/x-java": ("document", "file_search", (".java",)),
    "text/javascript": ("document", "file_search", (".js", ".mjs")),
    "text/typescript": ("document", "file_search", (".ts", ".mts")),
    "text/x-rust": ("document", "file_search", (".rs",)),
    "text/x-go": ("document", "file_search", (".go",)),
    "text/x-csharp": ("document", "file_search", (".cs",)),
    "text/x-ruby": ("document", "file_search", (".rb",)),
    "text/x-sql": ("document", "file_search", (".sql",)),
    XLSX: ("document", "code_interpreter", (".xlsx",)),
    "image/png": ("image", "none", (".png",)),
    "image/jpeg": ("image", "none", (".jpg", ".jpeg")),
    "image/webp": ("image", "none", (".webp",)),
}
_BY_EXTENSION = {ext: mime for mime, (_, _, exts) in _TYPES.items() for ext in exts} | {".csv": "text/csv"}


class FileType(msgspec.Struct, frozen=True):
    content_type: str
    kind: Kind
    purpose: Purpose


def clean_filename(name: str | None) -> str:
    """C-13.1: the part's file name without any path; ``upload`` when missing; cut to 255 code points keeping the
    extension."""
    base = posixpath.basename((name or "").replace("\\", "/")).strip()
    if not base:
        return DEFAULT_FILENAME
    if len(base) <= MAX_FILENAME:
        return base
    stem, ext = posixpath.splitext(base)
    if len(ext) >= MAX_FILENAME:
        return base[:MAX_FILENAME]
    return stem[: MAX_FILENAME - len(ext)] + ext


def extension_of(filename: str) -> str:
    return posixpath.splitext(filename)[1].lower()


def file_type(filename: str, declared: str | None, *, allow_csv: bool) -> FileType:
    """C-13.2: parameters stripped and lowercased; ``application/octet-stream`` (or none) → from the extension;
    ``text/csv`` → ``text/plain`` when CSV uploads are allowed; anything else outside the table → 415."""
    mime = (declared or "").split(";", 1)[0].strip().lower()
    if not mime or mime == "application/octet-stream":
        mime = _BY_EXTENSION.get(extension_of(filename), "")
    if mime == "text/csv" and allow_csv:
        mime = "text/plain"
    known = _TYPES.get(mime)
    if known is None:
        raise UnsupportedFileType(f"Files of type '{mime or 'unknown'}' cannot be attached.")
    kind, purpose, _ = known
    return FileType(mime, kind, purpose)


def size_cap(kind: Kind, rag: RagConfig, model: ModelCatalogEntry) -> int:
    """C-13.3: the smaller of the configured cap for the kind and the model's ``max_file_size_mb``, in bytes."""
    configured = rag.uploaded_image_max_size_kb if kind == "image" else rag.uploaded_file_max_size_kb
    return min(configured * KIB, model.general_config.max_file_size_mb * MIB)


def declared_too_large(content_length: int | None, cap: int) -> bool:
    return content_length is not None and content_length - CONTENT_LENGTH_SLACK > cap


def check_purpose(file: FileType, model: ModelCatalogEntry, kill: KillSwitches) -> None:
    """C-13.5: a spreadsheet needs the code interpreter, enabled and supported by the chat's model."""
    if file.purpose == "code_interpreter" and (
        kill.disable_code_interpreter or not model.general_config.tool_support.code_interpreter
    ):
        raise CodeInterpreterUnavailable(
            "Spreadsheets need the code interpreter, which this chat cannot use."
        )


def provider_filename(chat_hex: str, attachment_hex: str, filename: str) -> str:
    """CI-12.1: ``{chat_id}_{attachment_id}.{ext}`` — the original name never reaches the provider."""
    ext = extension_of(filename)
    return f"{chat_hex}_{attachment_hex}{ext}"


class Thumbnail(msgspec.Struct, frozen=True, kw_only=True):
    content_type: Literal["image/webp"] = "image/webp"
    width: int
    height: int
    data_base64: str


class AttachmentDetail(msgspec.Struct, frozen=True, kw_only=True):
    """C-5 ``AttachmentDetail``; ``doc_summary`` is always null in the MVP."""

    id: str
    filename: str
    content_type: str
    size_bytes: int
    status: str
    kind: str
    error_code: str | None
    doc_summary: None
    img_thumbnail: Thumbnail | None
    summary_updated_at: None
    created_at: str


def attachment_detail(row: AttachmentRecord) -> AttachmentDetail:
    thumb = None
    if row.img_thumbnail is not None and row.img_thumbnail_width and row.img_thumbnail_height:
        thumb = Thumbnail(
            width=row.img_thumbnail_width,
            height=row.img_thumbnail_height,
            data_base64=base64.b64encode(row.img_thumbnail).decode("ascii"),
        )
    return AttachmentDetail(
        id=str(row.id),
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        status=row.status,
        kind=row.attachment_kind,
        error_code=row.error_code,
        doc_summary=None,
        img_thumbnail=thumb,
        summary_updated_at=None,
        created_at=format_rfc3339(row.created_at),
    )


__all__ = [
    "CONTENT_LENGTH_SLACK",
    "AttachmentDetail",
    "FileType",
    "Thumbnail",
    "attachment_detail",
    "check_purpose",
    "clean_filename",
    "declared_too_large",
    "file_type",
    "provider_filename",
    "size_cap",
]
