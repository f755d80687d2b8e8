"""C-13.1–13.5 as pure rules: file names, MIME and kind, caps, the declared-length pre-check, purpose."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.config import RagConfig
from fabrikit.modules.mini_chat.domain.attachments import (
    CONTENT_LENGTH_SLACK,
    XLSX,
    check_purpose,
    clean_filename,
    declared_too_large,
    file_type,
    provider_filename,
    size_cap,
)
from fabrikit.modules.mini_chat.domain.errors import CodeInterpreterUnavailable, UnsupportedFileType
from fabrikit.modules.mini_chat.sdk import GeneralConfig, KillSwitches, ToolSupport
from tests.mini_chat_engine.fakes import model


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "upload"),
        ("", "upload"),
        ("   ", "upload"),
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("dir/sub/notes.md", "notes.md"),
    ],
)
def test_file_names(raw: str | None, expected: str) -> None:
    assert clean_filename(raw) == expected


@given(st.text(min_size=256, max_size=600, alphabet=st.characters(blacklist_characters="/\\.")))
def test_a_long_name_is_cut_to_255_code_points_keeping_its_extension(stem: str) -> None:
    if not stem.strip():
        return
    name = clean_filename(stem + ".docx")
    assert len(name) == 255
    assert name.endswith(".docx")


@pytest.mark.parametrize(
    ("name", "declared", "mime", "kind", "purpose"),
    [
        ("a.pdf", "application/pdf", "application/pdf", "document", "file_search"),
        ("a.PDF", "Application/PDF; charset=binary", "application/pdf", "document", "file_search"),
        ("a.md", "application/octet-stream", "text/markdown", "document", "file_search"),
        ("a.mts", None, "text/typescript", "document", "file_search"),
        ("a.csv", "text/csv", "text/plain", "document", "file_search"),
        ("a.csv", "application/octet-stream", "text/plain", "document", "file_search"),
        ("t.xlsx", "application/octet-stream", XLSX, "document", "code_interpreter"),
        ("p.jpeg", "application/octet-stream", "image/jpeg", "image", "none"),
        ("p.webp", "image/webp", "image/webp", "image", "none"),
    ],
)
def test_types(name: str, declared: str | None, mime: str, kind: str, purpose: str) -> None:
    found = file_type(name, declared, allow_csv=True)
    assert (found.content_type, found.kind, found.purpose) == (mime, kind, purpose)


@pytest.mark.parametrize(
    ("name", "declared"),
    [("a.gif", "image/gif"), ("a.exe", "application/octet-stream"), ("noext", None), ("a.csv", "text/csv")],
)
def test_refused_types(name: str, declared: str | None) -> None:
    with pytest.raises(UnsupportedFileType):
        file_type(name, declared, allow_csv=False)


def test_caps_take_the_smaller_of_config_and_model() -> None:
    rag = RagConfig(uploaded_file_max_size_kb=2048, uploaded_image_max_size_kb=100)
    small = msgspec.structs.replace(model("m", "standard"), general_config=GeneralConfig(max_file_size_mb=1))
    assert size_cap("document", rag, small) == 1024 * 1024
    assert size_cap("image", rag, small) == 100 * 1024
    cap = 100 * 1024
    assert not declared_too_large(None, cap)
    assert not declared_too_large(cap + CONTENT_LENGTH_SLACK, cap)
    assert declared_too_large(cap + CONTENT_LENGTH_SLACK + 1, cap)


def test_spreadsheets_need_the_code_interpreter() -> None:
    sheet = file_type("t.xlsx", XLSX, allow_csv=True)
    with_ci = model("m", "standard")
    check_purpose(sheet, with_ci, KillSwitches())
    with pytest.raises(CodeInterpreterUnavailable):
        check_purpose(sheet, with_ci, KillSwitches(disable_code_interpreter=True))
    without = msgspec.structs.replace(
        with_ci, general_config=GeneralConfig(tool_support=ToolSupport(code_interpreter=False))
    )
    with pytest.raises(CodeInterpreterUnavailable):
        check_purpose(sheet, without, KillSwitches())
    check_purpose(file_type("a.txt", "text/plain", allow_csv=True), without, KillSwitches())  # not a sheet


def test_the_provider_never_sees_the_original_name() -> None:
    assert (
        provider_filename("c" * 32, "a" * 32, "Quarterly Report (final).PDF") == f"{'c' * 32}_{'a' * 32}.pdf"
    )
    assert provider_filename("c", "a", "noext") == "c_a"
