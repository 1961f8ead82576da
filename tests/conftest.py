from __future__ import annotations

import pytest
from typer.testing import CliRunner

from grader.config import LLMSettings
from grader.rubric.bank import Bank
from tests.fake_llm import FakeLLM

_ENV_TO_CLEAR = [
    "GRADER_RUBRICS",
    "GRADER_PROMPT",
    "GRADER_JUDGE",
    "GRADER_LLM_PROVIDER",
    "GRADER_LLM_MODEL",
    "GRADER_LLM_BASE_URL",
    "GRADER_LLM_API_KEY",
    "GRADER_LLM_TIMEOUT",
    "GRADER_LLM_RETRIES",
    "GRADER_LLM_SAMPLES",
    "OPENAI_API_KEY",
]


@pytest.fixture(scope="session", autouse=True)
def rubric_cache_dir(tmp_path_factory):
    """One rubric cache for the session, never the user's."""
    import os

    os.environ["GRADER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No test reads the user's store, config or keys."""
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRADER_DB", str(tmp_path / "grader.db"))
    monkeypatch.setenv("GRADER_CONFIG", str(tmp_path / "config.toml"))


@pytest.fixture(scope="session")
def bank() -> Bank:
    return Bank.load()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fake_llm():
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture
def llm_settings(fake_llm) -> LLMSettings:
    return LLMSettings(model="fake-judge", base_url=fake_llm.base_url, api_key="test-key", timeout_s=5, max_retries=2)
