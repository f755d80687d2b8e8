from fabrikit.modules.mock_llm.testing import mock_llm  # noqa: F401
