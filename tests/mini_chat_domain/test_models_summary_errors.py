"""C-6.2 default model, C-15 listing, effective catalog; CI-9 summary helpers; C-3 error codes."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from hypothesis import given

from fabrikit.kernel.errors import DomainError
from fabrikit.modules.mini_chat.domain import errors
from fabrikit.modules.mini_chat.domain.errors import (
    InvalidModel,
    ModelNotFound,
    QuotaExceeded,
    UploadConcurrencyLimit,
)
from fabrikit.modules.mini_chat.domain.models import (
    choose_chat_model,
    default_standard_model,
    effective_catalog,
    find_listed_model,
    listed_models,
    public_model,
    supports_vision,
)
from fabrikit.modules.mini_chat.domain.summary import (
    Frontier,
    extract_summary,
    frozen_range,
    should_trigger,
    shrink_target,
    summary_input,
    summary_token_estimate,
)
from tests.strategies.mini_chat import catalog_entry, catalogs


def test_default_model_chain() -> None:
    p1, p2 = catalog_entry("p1", "premium"), catalog_entry("p2", "premium", default=True)
    s1 = catalog_entry("s1", "standard")
    assert choose_chat_model([p1, p2, s1], None).id == "p2"
    assert choose_chat_model([s1, p1], None).id == "p1"
    assert choose_chat_model([catalog_entry("px", "premium", enabled=False), s1], None).id == "s1"
    with pytest.raises(InvalidModel):
        choose_chat_model([catalog_entry("px", "premium", enabled=False)], None)
    assert choose_chat_model([p1, s1], "s1").id == "s1"
    with pytest.raises(InvalidModel) as info:
        choose_chat_model([p1, catalog_entry("off", enabled=False)], "off")
    assert (info.value.status, info.value.code) == (400, "invalid_model")


@given(catalogs())
def test_listing_order_and_default(catalog) -> None:  # type: ignore[no-untyped-def]
    listed = listed_models(catalog)
    assert all(e.enabled for e in listed)
    keys = [(e.preference.sort_order is None, e.preference.sort_order or 0, e.id) for e in listed]
    assert keys == sorted(keys)
    try:
        chosen = choose_chat_model(catalog, None)
    except InvalidModel:
        assert not any(e.enabled for e in catalog)
        return
    if any(e.enabled and e.tier == "premium" for e in catalog):
        assert chosen.tier == "premium"


def test_unconfigured_provider_is_disabled() -> None:
    catalog = [
        catalog_entry("a"),
        catalog_entry("b", provider_id="azure"),
        catalog_entry("c", provider_id="x", enabled=False),
    ]
    result = effective_catalog(catalog, {"mock"})
    assert [e.enabled for e in result.entries] == [True, False, False]
    assert result.unconfigured == ("b",)
    with pytest.raises(ModelNotFound):
        find_listed_model(result.entries, "b")
    assert find_listed_model(result.entries, "a").id == "a"


def test_public_model_hides_internals() -> None:
    view = public_model(
        catalog_entry("a", "premium", multiplier_display="3x", multimodal_capabilities=("VISION_INPUT",))
    )
    fields = set(view.__struct_fields__)
    assert fields == {
        "model_id",
        "display_name",
        "tier",
        "multiplier_display",
        "description",
        "multimodal_capabilities",
        "context_window",
    }
    assert supports_vision(catalog_entry("v", multimodal_capabilities=("VISION_INPUT",)), "openai_responses")
    assert not supports_vision(
        catalog_entry("v", multimodal_capabilities=("VISION_INPUT",)), "openai_chat_completions"
    )
    assert default_standard_model([catalog_entry("s1"), catalog_entry("s2", default=True)]).id == "s2"  # type: ignore[union-attr]


def fr(second: int, n: int) -> Frontier:
    return Frontier(datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC), UUID(int=n))


def test_summary_trigger() -> None:
    kwargs = {"context_window": 4096, "max_output_tokens": 1024, "trigger_pct": 80}
    assert should_trigger(messages_truncated=True, has_summary=True, estimated_context_tokens=0, **kwargs)
    threshold = (4096 - 1024) * 80 / 100
    assert should_trigger(
        messages_truncated=False, has_summary=False, estimated_context_tokens=int(threshold) + 1, **kwargs
    )
    assert not should_trigger(
        messages_truncated=False, has_summary=False, estimated_context_tokens=int(threshold) - 1, **kwargs
    )
    assert not should_trigger(
        messages_truncated=False, has_summary=True, estimated_context_tokens=4000, **kwargs
    )


def test_frozen_range() -> None:
    assert frozen_range(None, None) is None
    assert frozen_range(None, fr(1, 1)) == frozen_range(None, fr(1, 1))
    assert frozen_range(fr(2, 1), fr(2, 1)) is None
    assert frozen_range(fr(2, 2), fr(2, 1)) is None
    assert frozen_range(fr(2, 1), fr(2, 2)).target == fr(2, 2)  # type: ignore[union-attr]
    assert shrink_target([fr(1, 1)]) is None
    assert shrink_target([fr(1, 1), fr(2, 2), fr(3, 3), fr(4, 4)]) == fr(2, 2)


def test_summary_text_helpers() -> None:
    out = "<analysis>thinking</analysis>\n<summary>Goal: x\n\n\n\nFacts: y</summary>"
    assert extract_summary(out) == "Goal: x\n\nFacts: y"
    assert extract_summary("no tags") is None
    assert extract_summary("<summary>  </summary>") is None
    text = summary_input("old", [("user", "a" * 10), ("assistant", "b")], 4)
    assert text.endswith("user: aaaa\n\nassistant: b")
    assert "old" in text
    assert summary_token_estimate(None, "abcde") == 2
    assert summary_token_estimate(9, "x") == 9


def test_error_codes_and_statuses() -> None:
    expected = {
        "chat_not_found": 404,
        "turn_not_found": 404,
        "message_not_found": 404,
        "attachment_not_found": 404,
        "model_not_found": 404,
        "invalid_model": 400,
        "invalid_attachment": 400,
        "too_many_images": 400,
        "web_search_disabled": 400,
        "images_disabled": 400,
        "invalid_turn_state": 400,
        "invalid_reaction_target": 400,
        "request_id_conflict": 409,
        "generation_in_progress": 409,
        "not_latest_turn": 409,
        "attachment_locked": 409,
        "input_too_long": 422,
        "context_budget_exceeded": 422,
        "code_interpreter_unavailable": 422,
        "quota_exceeded": 429,
        "license_required": 403,
        "forbidden": 403,
        "service_unavailable": 503,
        "upload_concurrency_limit": 503,
        "validation_error": 400,
        "invalid_json": 400,
        "file_too_large": 413,
        "unsupported_file_type": 415,
        "unsupported_media": 415,
        "document_limit_exceeded": 400,
        "storage_limit_exceeded": 400,
        "internal_error": 500,
    }
    catalog = {code: cls.status for code, cls in errors.CATALOG.errors.items()}
    assert catalog == expected
    for cls in errors.CATALOG.errors.values():
        assert issubclass(cls, DomainError)
        assert cls.title
        assert cls.title != cls.code
    problem = QuotaExceeded(quota_scope="web_search").to_problem().to_dict()
    assert problem["quota_scope"] == "web_search"
    assert problem["context"] == {"quota_scope": "web_search"}
    assert UploadConcurrencyLimit().response_headers() == {"Retry-After": "5"}
