"""Client-visible mini-chat errors with the exact C-3 codes."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from fabrikit.kernel.errors import (
    Conflict,
    DomainError,
    ErrorCatalog,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
    Unprocessable,
)

QuotaScope = Literal["tokens", "web_search", "code_interpreter"]


class InvalidJson(InvalidArgument):
    code, title = "invalid_json", "Malformed JSON body"


class ValidationFailed(InvalidArgument):
    code, title = "validation_error", "The request body is invalid"


class InvalidModel(InvalidArgument):
    code, title = "invalid_model", "The model is not available"


class InvalidAttachment(InvalidArgument):
    code, title = "invalid_attachment", "An attachment cannot be used"


class TooManyImages(InvalidArgument):
    code, title = "too_many_images", "Too many images in one message"


class WebSearchDisabled(InvalidArgument):
    code, title = "web_search_disabled", "Web search is disabled"


class ImagesDisabled(InvalidArgument):
    code, title = "images_disabled", "Image input is disabled"


class InvalidTurnState(InvalidArgument):
    code, title = "invalid_turn_state", "The turn is still running"


class InvalidReactionTarget(InvalidArgument):
    code, title = "invalid_reaction_target", "Only assistant messages take reactions"


class DocumentLimitExceeded(InvalidArgument):
    code, title = "document_limit_exceeded", "Too many documents in this chat"


class StorageLimitExceeded(InvalidArgument):
    code, title = "storage_limit_exceeded", "The chat's upload storage is full"


class Forbidden(PermissionDenied):
    code, title = "forbidden", "Forbidden"


class LicenseRequired(PermissionDenied):
    code, title = "license_required", "An active chat license is required"


class ChatNotFound(NotFound):
    code, title = "chat_not_found", "Chat not found"


class TurnNotFound(NotFound):
    code, title = "turn_not_found", "Turn not found"


class MessageNotFound(NotFound):
    code, title = "message_not_found", "Message not found"


class AttachmentNotFound(NotFound):
    code, title = "attachment_not_found", "Attachment not found"


class ModelNotFound(NotFound):
    code, title = "model_not_found", "Model not found"


class RequestIdConflict(Conflict):
    code, title = "request_id_conflict", "The request id belongs to another turn"


class GenerationInProgress(Conflict):
    code, title = "generation_in_progress", "A reply is already being generated in this chat"


class NotLatestTurn(Conflict):
    code, title = "not_latest_turn", "Only the latest turn can be changed"


class AttachmentLocked(Conflict):
    code, title = "attachment_locked", "The attachment is used by a message"


class FileTooLarge(DomainError):
    code, status, title = "file_too_large", 413, "The file is too large"


class UnsupportedFileType(DomainError):
    code, status, title = "unsupported_file_type", 415, "Unsupported file type"


class UnsupportedMedia(DomainError):
    code, status, title = "unsupported_media", 415, "The model does not accept images"


class InputTooLong(Unprocessable):
    code, title = "input_too_long", "The message is too long for the model"


class ContextBudgetExceeded(Unprocessable):
    code, title = "context_budget_exceeded", "The message does not fit the model's context"


class CodeInterpreterUnavailable(Unprocessable):
    code, title = (
        "code_interpreter_unavailable",
        "Spreadsheets need the code interpreter, which is unavailable",
    )


class QuotaExceeded(ResourceExhausted):
    code, title = "quota_exceeded", "Quota exceeded"
    extensions = ("quota_scope",)

    def __init__(self, detail: str = "", *, quota_scope: QuotaScope, **extra: Any) -> None:
        super().__init__(detail, quota_scope=quota_scope, **extra)

    @property
    def quota_scope(self) -> str:
        return str(self.extension_values["quota_scope"])


class ServiceUnavailable(Unavailable):
    code, title = "service_unavailable", "Service unavailable"


class UploadConcurrencyLimit(Unavailable):
    code, title = "upload_concurrency_limit", "Too many uploads in progress"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "5"}


class CreditsOverflow(Internal):
    """Credit arithmetic got inputs outside its guards (CI-7.1); the cause is logged, the client sees a 500."""


CATALOG = ErrorCatalog(
    "mini-chat",
    InvalidJson,
    ValidationFailed,
    InvalidModel,
    InvalidAttachment,
    TooManyImages,
    WebSearchDisabled,
    ImagesDisabled,
    InvalidTurnState,
    InvalidReactionTarget,
    DocumentLimitExceeded,
    StorageLimitExceeded,
    Forbidden,
    LicenseRequired,
    ChatNotFound,
    TurnNotFound,
    MessageNotFound,
    AttachmentNotFound,
    ModelNotFound,
    RequestIdConflict,
    GenerationInProgress,
    NotLatestTurn,
    AttachmentLocked,
    FileTooLarge,
    UnsupportedFileType,
    UnsupportedMedia,
    InputTooLong,
    ContextBudgetExceeded,
    CodeInterpreterUnavailable,
    QuotaExceeded,
    ServiceUnavailable,
    UploadConcurrencyLimit,
    CreditsOverflow,
)
