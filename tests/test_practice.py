"""`grader practice` driven key by key through prompt_toolkit's pipe input, as a terminal would."""

from __future__ import annotations

import io
import json
import re

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from grader.cli.app import app
from grader.cli.practice import run_session
from grader.cli.terminal_io import PromptTerminal
from grader.judges.offline import OfflineJudge
from grader.store.db import Store

SUBMIT = "\x1b\r"  # Esc then Enter; Alt-Enter sends the same bytes
CTRL_D = "\x04"
LEFT = "\x1b[D"
HOME_OF_LINE = "\x01"  # Ctrl-A
ANSWER_ZH = (
    "训练时用当前 mini-batch 的均值和方差归一化，再乘 γ 加 β。同时用 momentum 指数滑动平均更新 running_mean 和 "
    "running_var。推理时用训练时累积的 running mean 和 running var，输出与 batch 无关。测试时不更新任何统计量，"
    "PyTorch 里要调用 model.eval()。推理时 BN 还可以融合进前面的卷积。"
)
ANSWER_EN = (
    "During training BN normalises with the mini-batch mean and variance, then scales by gamma and shifts by beta, "
    "and updates running_mean and running_var with a momentum moving average. At inference it uses the running "
    "statistics, so the output does not depend on the batch."
)
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def judge():
    return OfflineJudge()


def session(bank, judge, tmp_path, keys: str, **kw) -> tuple[str, list[float], Store]:
    """Run a practice session on `keys`; returns what the screen showed, the scores, the store."""
    buf = io.StringIO()
    out = Console(file=buf, width=80, color_system=None, force_terminal=False)
    store = Store(tmp_path / "practice.db")
    with create_pipe_input() as inp:
        inp.send_text(keys)
        term = PromptTerminal(input=inp, output=DummyOutput(), history_path=tmp_path / "history")
        scores = run_session(bank, judge, store, term, out, first=bank.get(kw.pop("first", "bn-inference")), seed=1, **kw)
    return buf.getvalue(), scores, store


def grading_screen(screen: str) -> list[str]:
    """The lines from the grading's header to the line before the next rule/menu."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("bn-inference · "))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("─")), len(lines) - 1)
    return lines[start:end]


def test_edit_submit_reference_and_quit(bank, judge, tmp_path):
    # type, fix a typo with the arrow keys, submit; 'r' for the reference; 'n' for the next
    # question; Ctrl-D on its empty answer quits
    typo = ANSWER_ZH.replace("model.eval()", "model.evl()")
    fix = LEFT * len("()。推理时 BN 还可以融合进前面的卷积。") + LEFT + "a"
    keys = typo + fix + SUBMIT + "r" + "n" + CTRL_D
    screen, scores, store = session(bank, judge, tmp_path, keys)
    row = store.history(source="practice")[0]
    assert row["answer"] == ANSWER_ZH  # the edit landed where the cursor was; nothing was lost
    assert scores == [row["percent"]]
    first = grading_screen(screen)
    assert first[1].startswith(f"得分 {row['score']:g}/11 ({row['percent']:g}%)")
    assert sum(line.startswith((" ✓ 答到", " ◐ 部分", " ✗ 未答到")) for line in first) == 5
    assert "参考答案" in screen and "Batch Renorm" in screen
    assert screen.rstrip().endswith(f"本次练习：评了 1 题，平均 {row['percent']:.0f}%。用 `grader progress` 查看进度。")
    assert (tmp_path / "history").read_text(encoding="utf-8").count("model.eval()") == 1  # ↑ recalls it next time


def test_ctrl_d_with_text_does_not_submit(bank, judge, tmp_path):
    # Ctrl-D inside an answer deletes forward, as in a shell; it never submits half a character
    keys = "推理时用 running mean。" + LEFT + CTRL_D + SUBMIT + "q"
    screen, scores, store = session(bank, judge, tmp_path, keys)
    assert store.history(source="practice")[0]["answer"] == "推理时用 running mean"
    assert len(scores) == 1


def test_empty_answer_asks_again_and_ctrl_d_quits(bank, judge, tmp_path):
    screen, scores, store = session(bank, judge, tmp_path, "   " + SUBMIT + CTRL_D)
    assert "回答是空的" in screen
    assert screen.count("BN 在训练和推理") == 2  # the same question again
    assert scores == [] and store.count() == 0
    assert screen.rstrip().endswith("再见。")


def test_first_screen_fits_80x24_and_details_on_a_key(bank, judge, tmp_path):
    wrong = "训练时用 mini-batch 的均值和方差。测试时 BN 层还会继续更新 running mean 和 running var。"
    screen, _, _ = session(bank, judge, tmp_path, wrong + SUBMIT + "d" + "q")
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("bn-inference · "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("─") and "详情" in lines[i])
    first = lines[start:end]
    assert len(first) <= 22, first  # a 24-line terminal still shows the menu under it
    assert all(len(line) <= 80 for line in first)
    assert any(line.startswith("得分 ") for line in first[:2])
    assert "错误说法" in first and any("→" in line for line in first)
    assert any(line.startswith("追问：") for line in first)
    details = lines[end:]
    assert "证据" in details and any("“" in line for line in details)
    # the judge's diagnostics are not for candidates
    assert "Key concepts found" not in screen and "similarity" not in screen


def test_verbose_shows_the_judge_rationale(bank, judge, tmp_path):
    screen, _, _ = session(bank, judge, tmp_path, ANSWER_ZH + SUBMIT + "q", verbose=True)
    assert "证据" in screen and "判分依据" in screen


def test_an_english_answer_gets_one_language(bank, judge, tmp_path):
    screen, _, _ = session(bank, judge, tmp_path, ANSWER_EN + SUBMIT + "d" + "q")
    after = screen[screen.index("bn-inference · Normalization"):]
    assert "Score " in after and "Follow-up: " in after and "To add" in after
    assert not CJK.search(after), [line for line in after.splitlines() if CJK.search(line)]
    assert re.search(r"Session: 1 graded, average \d+%\. See `grader progress`\.$", after.rstrip())


def test_lang_option_decides_everything(bank, judge, tmp_path):
    screen, _, _ = session(bank, judge, tmp_path, ANSWER_ZH + SUBMIT + "q", lang="en")
    assert "How does BN behave in training versus inference" in screen or not CJK.search(screen.splitlines()[2])
    graded = screen[screen.index("bn-inference · Normalization · offline judge"):]
    assert re.search(r"Score [\d.]+/11 \([\d.]+%\)", graded) and "Follow-up: " in graded
    assert not CJK.search(graded.replace(ANSWER_ZH, ""))


def test_menu_keys_need_no_enter(bank, judge, tmp_path):
    # "r", "d" and "q" are read as single keys: no Enter between them
    screen, _, _ = session(bank, judge, tmp_path, ANSWER_ZH + SUBMIT + "rdq")
    assert screen.index("参考答案") < screen.index("详情") < screen.index("本次练习")


def test_piped_practice_through_the_cli(runner):
    keys = "\n".join([ANSWER_ZH, ".", "r", "q"]) + "\n"
    result = runner.invoke(app, ["practice", "bn-inference", "--seed", "3"], input=keys)
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "BN 在训练和推理" in out and re.search(r"得分 [\d.]+/11", out)
    assert "参考答案" in out and "Batch Renorm" in out
    assert re.search(r"本次练习：评了 1 题，平均 \d+%。", out)
    rows = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    assert rows[0]["source"] == "practice" and rows[0]["candidate"] is None


def test_piped_practice_quits_on_end_of_input(runner):
    result = runner.invoke(app, ["practice", "--seed", "1", "--category", "normalization"], input="")
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("再见。")


def test_config_language_is_the_default(runner, tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('lang = "en"\n', encoding="utf-8")
    monkeypatch.setenv("GRADER_CONFIG", str(cfg))
    result = runner.invoke(app, ["practice", "bn-inference"], input="\n".join([ANSWER_ZH, ".", "q"]) + "\n")
    assert result.exit_code == 0, result.output
    assert "Score " in result.stdout and "Session: 1 graded" in result.stdout


def test_gbk_bytes_from_a_misconfigured_terminal_are_decoded(bank, judge, tmp_path):
    # a GBK terminal's bytes reach Python as lone surrogates; they are decoded, never stored as such
    from grader.cli.terminal_io import LineTerminal

    text = "推理时用 running mean 和 running var，不用当前 batch 的统计量。"
    garbled = text.encode("gbk").decode("utf-8", "surrogateescape")
    store = Store(tmp_path / "practice.db")
    out = Console(file=io.StringIO(), width=80, color_system=None)
    scores = run_session(bank, judge, store, LineTerminal(io.StringIO(garbled + "\n.\nq\n")), out, first=bank.get("bn-inference"))
    assert store.history(source="practice")[0]["answer"] == text
    assert len(scores) == 1
