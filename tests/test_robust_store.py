"""A damaged, full or read-only store, through the real CLI: one line naming the file and what
to do, exit code 4, and a grading the judge already made is still shown."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys

import pytest

from grader.cli.app import app
from grader.cli.common import EXIT_STORE
from tests.fake_llm import judge_reply

ANSWER = "训练时用当前 batch 的均值和方差归一化，推理时用 running mean 和 running var。"


def _count(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM gradings").fetchone()[0]


def _grader(args: list[str], env: dict, preexec=None, wrapper: list[str] | None = None):
    cmd = [*(wrapper or []), sys.executable, "-c", "from grader.cli.app import main; main()", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=preexec, timeout=120)


@pytest.fixture
def filled_store(runner, tmp_path):
    for answer in (ANSWER, "推理时用 running mean 和 running var，测试时不更新。"):
        assert runner.invoke(app, ["grade", "bn-inference", "--answer", answer]).exit_code == 0
    return tmp_path / "grader.db"


def test_corrupt_store_is_one_line_with_the_recovery_command(runner, filled_store):
    data = bytearray(filled_store.read_bytes())
    data[4096:] = b"\x5a" * (len(data) - 4096)  # every page after the first
    filled_store.write_bytes(bytes(data))
    expected = (
        f'error: the store {filled_store} is damaged (database disk image is malformed); recover it with '
        f'`sqlite3 {filled_store} ".recover" | sqlite3 {filled_store}.recovered`'
    )
    for args in (["history"], ["progress"], ["grade", "bn-inference", "--answer", ANSWER]):
        result = runner.invoke(app, args)
        assert result.exit_code == EXIT_STORE, (args, result.output)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(expected), (args, result.stderr)
        assert "Traceback" not in result.output
    as_json = runner.invoke(app, ["history", "--json"])
    assert as_json.exit_code == EXIT_STORE
    assert json.loads(as_json.stderr)["error"].startswith(expected.removeprefix("error: "))


def test_failed_save_still_shows_the_grading_and_exits_4(filled_store, fake_llm, bank, monkeypatch):
    """The disk fills up while saving: the judge's result is printed, the exit code says it was
    not stored. The file-size limit makes writes past it fail as a full disk does."""
    rubric = bank.get("bn-inference")
    fake_llm.push(judge_reply(rubric, default_verdict="missed"))
    env = dict(os.environ, GRADER_LLM_MODEL="fake-judge", GRADER_LLM_BASE_URL=fake_llm.base_url,
               GRADER_LLM_RETRIES="0", GRADER_DB=str(filled_store))
    long_answer = ANSWER * 250  # its row alone is larger than the write limit below
    before = _count(filled_store)

    def small_disk():  # room for the store's shared-memory index (32 KB), not for the new row
        resource.setrlimit(resource.RLIMIT_FSIZE, (32768, 32768))

    result = _grader(["grade", "bn-inference", "--answer", long_answer, "--judge", "llm", "--json"], env, small_disk)
    assert result.returncode == EXIT_STORE, result.stderr
    shown = json.loads(result.stdout)
    assert shown["status"] == "graded" and shown["grading_id"] is None and shown["judge"]["kind"] == "llm"
    assert result.stderr.count("\n") == 1
    err = json.loads(result.stderr)  # under --json the error line is JSON too
    assert err["exit_code"] == EXIT_STORE
    assert err["error"].startswith(f"cannot save a grading to the store {filled_store}: ")
    assert "free space" in err["error"] and err["error"].endswith("the grading above was NOT stored")
    assert _count(filled_store) == before
    assert len(fake_llm.requests) == 1


def test_read_only_store_serves_history_and_progress(filled_store, tmp_path):
    """A store the user cannot write (as root, a user namespace without privileges makes the
    permission bits count)."""
    os.chmod(filled_store, 0o444)
    os.chmod(tmp_path, 0o555)
    wrapper = ["unshare", "--user"] if os.geteuid() == 0 else None
    if wrapper:
        assert shutil.which("unshare"), "util-linux's unshare is needed to drop root's privileges"
    env = dict(os.environ, GRADER_DB=str(filled_store))
    try:
        history = _grader(["history", "--json"], env, wrapper=wrapper)
        assert history.returncode == 0, history.stderr
        assert len(json.loads(history.stdout)) == 2
        progress = _grader(["progress", "--json"], env, wrapper=wrapper)
        assert progress.returncode == 0, progress.stderr
        assert json.loads(progress.stdout)[0]["attempts"] == 2
        graded = _grader(["grade", "bn-inference", "--answer", ANSWER + "测试时不更新。"], env, wrapper=wrapper)
        assert graded.returncode == EXIT_STORE
        assert "得分" in graded.stdout  # shown although not stored
        assert graded.stderr == (
            f"error: cannot save a grading to the store {filled_store}: it is read-only; make it writable, or point "
            "GRADER_DB or --db at a writable file; the grading above was NOT stored\n"
        )
    finally:
        os.chmod(tmp_path, 0o755)
        os.chmod(filled_store, 0o644)
    assert _count(filled_store) == 2
