from __future__ import annotations

import os

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
    "GRADER_LANG",
]


BROWSER_HINT = (
    "Chromium is not installed, so the HTML report cannot be checked in a real browser. "
    "Install it with `apt-get install -y chromium fonts-noto-cjk` (Debian/Ubuntu; the fonts render "
    "Chinese text)."
)


def find_chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_report_header(config):
    """Say at the top of every run whether the browser checks will run."""
    path = find_chromium()
    if path:
        return f"chromium: {path} (HTML report checked in a real browser)"
    if os.environ.get("CI"):
        return "chromium: MISSING and CI is set: the browser checks will fail"
    return f"chromium: not found: {BROWSER_HINT}"


def pytest_terminal_summary(terminalreporter):
    """A skipped browser check is named at the end of every run, even under -q."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if BROWSER_HINT in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} browser check(s) skipped: {BROWSER_HINT}", yellow=True)


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
    config = tmp_path / "config.toml"
    config.touch()  # an empty config: defaults (a named config file must exist)
    monkeypatch.setenv("GRADER_CONFIG", str(config))


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
