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


SANDBOX_HINT = (
    "bubblewrap is not installed, so candidates' code cannot be isolated here: the attack tests are "
    "skipped, and the project's own code (reference solutions, fixtures) runs without isolation. "
    "Install it with `apt-get install -y bubblewrap` (Debian/Ubuntu)."
)


def sandbox_problem() -> str | None:
    """None when bubblewrap can isolate code on this machine, else why not."""
    from grader.sandbox.runner import isolation_problem

    return isolation_problem()


def pytest_sessionstart(session):
    if os.environ.get("CI") and sandbox_problem() is not None:
        raise pytest.UsageError(f"CI must be able to run the code sandbox: {sandbox_problem()}")


def pytest_configure(config):
    config.addinivalue_line("markers", "hostile: runs hostile code, so only inside the real sandbox")


def pytest_collection_modifyitems(config, items):
    """Hostile code never runs without isolation: those tests skip, saying why."""
    if sandbox_problem() is None:
        return
    skip = pytest.mark.skip(reason=SANDBOX_HINT)
    for item in items:
        if "hostile" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    """Say at the top of every run whether the browser and sandbox checks will run."""
    path = find_chromium()
    if path:
        lines = [f"chromium: {path} (HTML report checked in a real browser)"]
    elif os.environ.get("CI"):
        lines = ["chromium: MISSING and CI is set: the browser checks will fail"]
    else:
        lines = [f"chromium: not found: {BROWSER_HINT}"]
    problem = sandbox_problem()
    lines.append("sandbox: bubblewrap" if problem is None else f"sandbox: {problem}: {SANDBOX_HINT}")
    return lines


def pytest_terminal_summary(terminalreporter):
    """A skipped browser or sandbox check is named at the end of every run, even under -q."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if BROWSER_HINT in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} browser check(s) skipped: {BROWSER_HINT}", yellow=True)
    if sandbox_problem() is not None:
        terminalreporter.write_line(SANDBOX_HINT, yellow=True)


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
    if _NO_SANDBOX():
        # Only code written for this project runs in the tests that are not skipped.
        config.write_text("allow_unsandboxed_code = true\n", encoding="utf-8")
        monkeypatch.setattr("grader.sandbox.policy._allow_unsandboxed", True)


def _no_sandbox_once():
    from functools import lru_cache

    return lru_cache(maxsize=1)(lambda: sandbox_problem() is not None)


_NO_SANDBOX = _no_sandbox_once()


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
