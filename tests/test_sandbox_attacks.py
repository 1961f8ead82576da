"""Attacks on the code sandbox, run against the real thing (bubblewrap, seccomp, the checker):
switching the audit hook off three ways, then going for the store, the config with its key, the
network, processes and files outside; a .pth file written into site-packages; reading the packaged
rubric from a wheel install; a poisoned result channel; and the paths where the kernel refuses
namespaces. Each asserts what the grading says and that nothing leaked.

The judge here is a stub that awards every criterion in full: whatever credit a tested criterion
gets therefore comes from the tests, and a sandbox failure can never be turned into judge credit."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import pytest

from grader.grading.code import NO_CODE_NOTE, grade_coding_answer
from grader.grading.models import CriterionGrade, Feedback, JudgeInfo, MisconceptionHit, graded
from grader.rubric.loader import load_file
from grader.rubric.models import Rubric
from grader.sandbox.runner import isolation_problem

REPO = Path(__file__).resolve().parent.parent
RUBRIC_FILE = REPO / "rubrics/coding-algorithms/max-subarray.yaml"
API_KEY = "sk-attack-test-0123456789"
STORED_ANSWER = "a stored answer nobody else may read"

if isolation_problem() is not None:  # pragma: no cover - CI installs bubblewrap
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must be able to run the sandbox: {isolation_problem()}")
    pytest.skip(f"bubblewrap cannot run here (install Debian's bubblewrap): {isolation_problem()}", allow_module_level=True)


class GenerousJudge:
    """Every criterion met in full: any missing credit below was taken by the tests."""

    kind = "offline"

    def info(self) -> JudgeInfo:
        return JudgeInfo(kind="offline", model="generous-stub")

    def grade(self, rubric: Rubric, answer: str):
        crits = [CriterionGrade(id=c.id, verdict="met", points=c.points, max_points=c.points, rationale="stub") for c in rubric.criteria]
        return graded(rubric, self.info(), crits, [], Feedback())


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    r, problems = load_file(RUBRIC_FILE)
    assert not problems
    return r


class Target:
    """What an attacker wants: the store, the config with the key, the network, the disk."""

    def __init__(self, tmp_path: Path):
        self.db = Path(os.environ["GRADER_DB"])
        with sqlite3.connect(self.db) as conn:
            conn.execute("CREATE TABLE gradings (answer TEXT)")
            conn.execute("INSERT INTO gradings VALUES (?)", (STORED_ANSWER,))
        self.config = Path(os.environ["GRADER_CONFIG"])
        self.config.write_text(f'[llm]\nmodel = "m"\napi_key = "{API_KEY}"\n')
        self.config.chmod(0o644)  # world-readable, as a careless user leaves it
        self.outside = tmp_path / "written-by-candidate.txt"
        self.store_bytes = self.db.read_bytes()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.3)
        self.port = self.server.getsockname()[1]
        self.accepted: list[object] = []
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                self.accepted.append(self.server.accept())
            except OSError:
                pass

    def prelude(self) -> str:
        return f"DB = {str(self.db)!r}\nCONFIG = {str(self.config)!r}\nPORT = {self.port}\nOUTSIDE = {str(self.outside)!r}\n" + PAYLOAD

    def assert_nothing_leaked(self, *texts: str) -> None:
        self._stop = True
        self.thread.join()
        self.server.close()
        for text in texts:
            assert API_KEY not in text and STORED_ANSWER not in text and ":LEAK:" not in text
        assert self.accepted == []
        assert not self.outside.exists()
        assert self.db.read_bytes() == self.store_bytes


@pytest.fixture
def target(tmp_path) -> Target:
    return Target(tmp_path)


# Each forbidden thing, tried; the function returns what happened to each.
PAYLOAD = '''
def attempt():
    import os, socket
    out = []
    def store():
        return open(DB, "rb").read()
    def config():
        return open(CONFIG).read()
    def net():
        return socket.create_connection(("127.0.0.1", PORT), timeout=2)
    def fork():
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        return pid
    def write():
        return open(OUTSIDE, "w").write("pwned")
    def shell():
        return os.execv("/bin/sh", ["sh", "-c", "echo pwned > " + OUTSIDE])
    for fn in (store, config, net, fork, write, shell):
        try:
            out.append(fn.__name__ + ":LEAK:" + str(fn())[:60])
        except BaseException as e:
            out.append(fn.__name__ + ":" + type(e).__name__)
    return out
'''
CONTAINED = "['store:FileNotFoundError', 'config:FileNotFoundError', 'net:PermissionError', 'fork:PermissionError', 'write:FileNotFoundError', 'shell:PermissionError']"

# 1. The hook's closure, found by walking the garbage collector: the current thread marked "busy".
HOOK_OFF = '''
import gc, _thread
for o in gc.get_objects():
    if getattr(o, "__name__", "") == "hook" and getattr(o, "__closure__", None):
        for name, cell in zip(o.__code__.co_freevars, o.__closure__):
            if name == "busy":
                cell.cell_contents.add(_thread.get_ident())
'''
GC_WALK = HOOK_OFF + '''
def max_subarray(nums):
    return attempt()
'''
# 2. An object claiming to be from pathlib: its __fspath__ runs while the hook evaluates it.
FSPATH = '''
RESULT = []
class Trick:
    __module__ = "pathlib"
    def __fspath__(self):
        if not RESULT:
            RESULT.extend(attempt())
        return "solution.py"

def max_subarray(nums):
    import shutil
    if not RESULT:
        try:
            shutil.copyfile(Trick(), "copy.txt")
        except BaseException as e:
            RESULT.append(type(e).__name__)
    return RESULT
'''
# 3a. The functions the guard calls to stop the run, replaced: it reports, then cannot stop.
MONKEY_EXIT = '''
import os
os._exit = lambda code: None

def max_subarray(nums):
    return attempt()
'''
# 3b. The same with json.dumps replaced too: the runner's own records become garbage.
MONKEY_JSON = '''
import os, json
os._exit = lambda code: None
json.dumps = lambda *a, **k: "{}"

def max_subarray(nums):
    return attempt()
'''


def grade(rubric: Rubric, code: str):
    answer = "用 Kadane 算法，dp[i] 是以 i 结尾的最大子数组和。\n```python\n" + code + "\n```\n"
    return grade_coding_answer(GenerousJudge(), rubric, answer)


def fed_by_tests(rubric: Rubric) -> set[str]:
    return {t.criterion for t in rubric.code_check.tests}


def points(grading) -> dict[str, float]:
    return {c.id: c.points for c in grading.criteria}


def test_correct_solution_passes_under_bubblewrap(rubric):
    g = grade(rubric, "def max_subarray(nums):\n    best = cur = nums[0]\n    for v in nums[1:]:\n        cur = max(v, cur + v)\n"
                      "        best = max(best, cur)\n    return best\n")
    assert g.code.status == "ok" and g.code.passed == g.code.total == len(rubric.code_check.tests)
    assert g.score == rubric.max_points and not g.needs_review
    assert g.notes[-1].startswith("code isolation: sandbox bubblewrap; namespaces user, mount, pid, network, ipc, uts, cgroup;")
    assert "seccomp 2 filters in force; capabilities none" in g.notes[-1]


@pytest.mark.parametrize("attack", ["gc-walk", "fspath", "monkeypatch-exit"])
def test_audit_hook_bypass_leaks_nothing_and_gets_no_test_credit(rubric, target, attack):
    code = {"gc-walk": GC_WALK, "fspath": FSPATH, "monkeypatch-exit": MONKEY_EXIT}[attack]
    g = grade(rubric, target.prelude() + code)
    if attack == "monkeypatch-exit":  # the guard's record went out before it was told not to stop
        assert g.code.status == "blocked"
        assert g.code.message == f"The code tried to read a file outside its working directory ({os.path.realpath(target.db)}), which is not allowed while grading; the run was stopped."
    else:  # the hook is off: the OS layers alone answer every attempt
        assert g.code.status == "ok" and g.code.passed == 0
    first = rubric.code_check.tests[0]
    assert CONTAINED in g.criteria[0].evidence[0].quote  # what each attempt got, as the candidate sees it
    assert first.call in g.criteria[0].evidence[0].quote
    assert {cid: p for cid, p in points(g).items() if cid in fed_by_tests(rubric)} == {cid: 0.0 for cid in fed_by_tests(rubric)}
    target.assert_nothing_leaked(g.model_dump_json())


def test_replaced_json_dumps_breaks_the_channel_and_fails_closed(rubric, target):
    g = grade(rubric, target.prelude() + MONKEY_JSON)
    assert g.code.status == "crashed"
    assert g.code.message == (
        "The test results could not be trusted: the channel from the code's process was corrupted (a record the checker "
        "cannot read (ChannelError)). No test credit is given; the grading is marked for review."
    )
    assert all(c.points == 0 and c.needs_review and "sandbox_failed" in c.flags for c in g.criteria if c.id in fed_by_tests(rubric))
    assert g.needs_review
    assert g.score == sum(c.points for c in rubric.criteria if c.id not in fed_by_tests(rubric))
    target.assert_nothing_leaked(g.model_dump_json())


POISON_LINE = '''
import os
def max_subarray(nums):
    payload = {payload}
    for fd in range(3, 64):
        try:
            os.write(fd, payload)
        except OSError:
            pass
    return 0
'''


@pytest.mark.parametrize("payload", ["b'[' * 100000 + b'\\n'", "b'{\"ev\": \"case\", \"i\": 0, \"value\": ' + b'9' * 100000 + b'}\\n'",
                                     "b'{\"ev\": \"case\", \"i\": 0, \"value\": ' + b'[' * 900 + b']' * 900 + b'}\\n'",
                                     "b'x' * (90 * 2**20)"],
                         ids=["deep-brackets", "100k-digit-int", "nested-900", "huge-line"])
def test_poisoned_channel_fails_closed(rubric, payload):
    g = grade(rubric, POISON_LINE.format(payload=payload))
    assert g.code.status == "crashed"
    assert g.code.message.startswith("The test results could not be trusted: the channel from the code's process was corrupted (")
    assert g.notes[0].startswith("the code's test results are missing or cannot be trusted (the channel from the code's process was corrupted")
    # a function returning 0 gets at most the explanation's points, and review
    assert {cid: p for cid, p in points(g).items() if cid in fed_by_tests(rubric)} == {cid: 0.0 for cid in fed_by_tests(rubric)}
    assert g.needs_review
    assert g.score == sum(c.points for c in rubric.criteria if c.id not in fed_by_tests(rubric))


def test_huge_output_is_reported_as_the_output_limit(rubric):
    g = grade(rubric, "for _ in range(3 * 10**6):\n    print('x' * 70)\n\ndef max_subarray(nums):\n    return max(nums)\n")
    assert g.code.status == "output_limit"
    assert g.code.message == "The code wrote more than 1 MiB (printed output or a file); the writing was cut off."


def test_pth_file_cannot_be_planted_in_any_site_packages(rubric, target):
    venv_site = Path(sysconfig.get_paths()["purelib"])
    base_site = Path(sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})["purelib"])
    code = HOOK_OFF + (  # the hook off: the OS layers alone
        "import os\ndef max_subarray(nums):\n    out = []\n"
        f"    for d in ({str(venv_site)!r}, {str(base_site)!r}):\n"
        "        try:\n            with open(os.path.join(d, 'zz-grader-evil.pth'), 'w') as f:\n"
        "                f.write('import os; os.system(\"touch pwned\")\\n')\n            out.append('written')\n"
        "        except OSError as e:\n            out.append(type(e).__name__)\n    return out\n"
    )
    g = grade(rubric, code)
    assert not (venv_site / "zz-grader-evil.pth").exists() and not (base_site / "zz-grader-evil.pth").exists()
    assert "returned ['FileNotFoundError', 'OSError']" in g.criteria[0].evidence[0].quote  # the venv is not there; the base one is read-only
    target.assert_nothing_leaked(g.model_dump_json())


def test_spoken_answer_runs_nothing_and_the_judge_grades_every_criterion(rubric):
    g = grade_coding_answer(GenerousJudge(), rubric, "用 Kadane：维护以当前元素结尾的最大和 cur = max(x, cur + x)，同时更新全局最大值，O(n) 时间 O(1) 空间。")
    assert g.code.status == "no_code"
    assert g.notes == [NO_CODE_NOTE]
    assert g.score == rubric.max_points and all("code_tests" not in c.flags for c in g.criteria)


def test_no_isolation_means_not_run_unless_allowed(rubric, monkeypatch, target):
    monkeypatch.setattr("grader.sandbox.bwrap.EXECUTABLE", "grader-no-such-bwrap")
    g = grade(rubric, "open(OUTSIDE, 'w').write('ran')\n" + target.prelude() + "def max_subarray(nums):\n    return max(nums)\n")
    assert g.code.status == "not_run"
    assert g.code.message == (
        "The code was not run: bubblewrap (bwrap) is not installed, so it cannot be isolated. Install bubblewrap, or to run it "
        "anyway, pass --allow-unsandboxed-code or set allow_unsandboxed_code = true in the config (the code can then read "
        "and change anything your user can)."
    )
    assert all(c.points == 0 and c.needs_review and "code_not_run" in c.flags for c in g.criteria if c.id in fed_by_tests(rubric))
    assert g.notes == [g.code.message + " The criteria its tests decide get no credit; marked for review."]
    target.assert_nothing_leaked(g.model_dump_json())
    from grader.sandbox import policy

    monkeypatch.setattr(policy, "_allow_unsandboxed", True)  # --allow-unsandboxed-code
    g = grade(rubric, "def max_subarray(nums):\n    best = cur = nums[0]\n    for v in nums[1:]:\n        cur = max(v, cur + v)\n"
                      "        best = max(best, cur)\n    return best\n")
    assert g.code.status == "ok" and g.score == rubric.max_points
    assert "sandbox none, allowed by the user (bubblewrap (bwrap) is not installed)" in g.notes[-1]


def test_a_not_run_grading_is_never_served_from_the_store(rubric, monkeypatch, tmp_path):
    from grader.grading.service import Grader
    from grader.sandbox import policy
    from grader.store.db import Store

    answer = "def max_subarray(nums):\n    best = cur = nums[0]\n    for v in nums[1:]:\n        cur = max(v, cur + v)\n        best = max(best, cur)\n    return best\n"
    store = Store(tmp_path / "g.db")
    monkeypatch.setattr("grader.sandbox.bwrap.EXECUTABLE", "grader-no-such-bwrap")
    first = Grader(GenerousJudge(), store).grade(rubric, answer)
    assert first.grading.code.status == "not_run" and first.grading.score < rubric.max_points
    monkeypatch.setattr(policy, "_allow_unsandboxed", True)  # the user opts in: the code must run now
    second = Grader(GenerousJudge(), store).grade(rubric, answer)
    assert not second.grading.cached
    assert second.grading.code.status == "ok" and second.grading.score == rubric.max_points


# ---- the CLI in other conditions: refused namespaces, a wheel install ------------------------------


ATTACK_ANSWER = "Kadane.\n```python\n{code}\n```\n"


def cli(tmp_path: Path, args: list[str], prefix: list[str] | None = None, env_extra: dict | None = None) -> dict:
    # the grader's own store is another file: the target's store must stay byte for byte the same
    env = dict(os.environ, GRADER_DB=str(tmp_path / "cli.db"), **(env_extra or {}))
    proc = subprocess.run(
        [*(prefix or []), sys.executable, "-m", "grader", *args, "--json", "--no-cache"],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_setpriv_without_sys_admin(tmp_path, target):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed: the run without CAP_SYS_ADMIN cannot be reproduced here")
    answer = tmp_path / "a.md"
    answer.write_text(ATTACK_ANSWER.format(code=target.prelude() + GC_WALK))
    out = cli(tmp_path, ["grade", "max-subarray", "--file", str(answer)], prefix=["setpriv", "--bounding-set=-sys_admin", "--"])
    tests_fed = {"correct-results", "edge-cases", "linear-time"}
    if out["code"]["status"] == "not_run":  # the kernel also refused bubblewrap's user namespace
        assert out["code"]["message"].startswith("The code was not run: bubblewrap cannot create its namespaces here")
    else:  # bubblewrap's user namespace needs no CAP_SYS_ADMIN: fully isolated all the same
        assert out["code"]["status"] == "ok" and out["code"]["passed"] == 0
        assert any(n.startswith("code isolation: sandbox bubblewrap;") for n in out["notes"])
    assert {c["id"]: c["points"] for c in out["criteria"] if c["id"] in tests_fed} == dict.fromkeys(tests_fed, 0.0)
    target.assert_nothing_leaked(json.dumps(out, ensure_ascii=False))


REFUSE_NAMESPACES = """
import errno, os, sys
import pyseccomp as sc
f = sc.SyscallFilter(sc.ALLOW)
for name in ("unshare", "setns"):
    f.add_rule(sc.ERRNO(errno.EPERM), name)
for flag in (0x10000000, 0x00020000, 0x20000000, 0x40000000, 0x08000000, 0x04000000, 0x02000000):
    f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
f.load()
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_refused_namespaces_run_nothing_by_default(tmp_path, target):
    """As under a container's default seccomp profile: no namespace can be created at all."""
    wrapper = tmp_path / "refuse.py"
    wrapper.write_text(REFUSE_NAMESPACES)
    answer = tmp_path / "a.md"
    answer.write_text(ATTACK_ANSWER.format(code="open(OUTSIDE, 'w').write('ran')\n" + target.prelude() + GC_WALK))
    prefix = [sys.executable, str(wrapper)]
    out = cli(tmp_path, ["grade", "max-subarray", "--file", str(answer)], prefix=prefix)
    assert out["code"]["status"] == "not_run"
    assert out["code"]["message"].startswith("The code was not run: bubblewrap cannot create its namespaces here (")
    assert "pass --allow-unsandboxed-code or set allow_unsandboxed_code = true in the config" in out["notes"][-1]
    tests_fed = {"correct-results", "edge-cases", "linear-time"}
    assert {c["id"]: (c["points"], c["needs_review"]) for c in out["criteria"] if c["id"] in tests_fed} == dict.fromkeys(tests_fed, (0.0, True))
    target.assert_nothing_leaked(json.dumps(out, ensure_ascii=False))


def test_refused_namespaces_opt_in_runs_the_code(tmp_path):
    wrapper = tmp_path / "refuse.py"
    wrapper.write_text(REFUSE_NAMESPACES)
    answer = tmp_path / "a.md"
    answer.write_text(ATTACK_ANSWER.format(code="def max_subarray(nums):\n    return max(nums)\n"))
    out = cli(tmp_path, ["grade", "max-subarray", "--file", str(answer), "--allow-unsandboxed-code"], prefix=[sys.executable, str(wrapper)])
    assert out["code"]["status"] == "ok" and 0 < out["code"]["passed"] < out["code"]["total"]
    assert any(n.startswith("code isolation: sandbox none, allowed by the user (bubblewrap cannot create its namespaces here") for n in out["notes"])


def test_wheel_install_keeps_the_rubric_out_of_reach(tmp_path):
    try:
        import hatchling  # noqa: F401  (builds the wheel offline)
    except ImportError:
        pytest.skip("hatchling is not installed (pip install -e '.[test]'): the wheel cannot be built offline")
    wheels, target_dir = tmp_path / "wheels", tmp_path / "site"
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(REPO)]
    subprocess.run(build, check=True, capture_output=True, timeout=240)
    wheel = next(wheels.glob("*.whl"))
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target_dir), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=240)
    packaged = target_dir / "grader/_data/rubrics/coding-algorithms/max-subarray.yaml"
    assert packaged.is_file()
    env = {"PYTHONPATH": str(target_dir)}
    where = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], capture_output=True, text=True, env=dict(os.environ, **env), cwd=tmp_path)
    assert where.stdout.strip() == str(target_dir / "grader/__init__.py")
    code = HOOK_OFF + (  # the hook off: the OS layers alone
        "import os, sys\nFOUND = []\n"
        f"for p in [{str(packaged)!r}] + [os.path.join(d, 'grader/_data/rubrics/coding-algorithms/max-subarray.yaml') for d in sys.path]:\n"
        "    try:\n        FOUND.append(open(p).read())\n    except OSError:\n        pass\n"
        "print(FOUND)\n"
        "def max_subarray(nums):\n    return FOUND[0][:300] if FOUND else 'nothing found'\n"
    )
    answer = tmp_path / "a.md"
    answer.write_text(ATTACK_ANSWER.format(code=code))
    out = cli(tmp_path, ["grade", "max-subarray", "--file", str(answer)], env_extra=env)
    text = json.dumps(out, ensure_ascii=False)
    assert out["code"]["status"] == "ok" and out["code"]["passed"] == 0
    assert "returned 'nothing found'" in text
    assert "reference_answer" not in text and "code_check" not in text


# ---- secrets at rest, and the config key that allows unsandboxed runs -------------------------------


def test_store_is_created_private(tmp_path):
    from grader.store.db import Store

    path = tmp_path / "new" / "grader.db"
    Store(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    loose = tmp_path / "loose.db"
    loose.touch(mode=0o644)
    loose.chmod(0o644)
    Store(loose).close()
    assert loose.stat().st_mode & 0o777 == 0o600


def test_config_key_allows_unsandboxed_runs(monkeypatch):
    from grader.grading.code import allow_unsandboxed_code
    from grader.sandbox import policy

    monkeypatch.setattr(policy, "_allow_unsandboxed", False)
    allow_unsandboxed_code(False)
    assert policy.unsandboxed_allowed() is False
    Path(os.environ["GRADER_CONFIG"]).write_text("allow_unsandboxed_code = true\n")
    allow_unsandboxed_code(False)
    assert policy.unsandboxed_allowed() is True
    Path(os.environ["GRADER_CONFIG"]).write_text("allow_unsandboxed_code = false\n")
    allow_unsandboxed_code(True)  # the command-line option wins
    assert policy.unsandboxed_allowed() is True


class TurningJudge(GenerousJudge):
    """Every criterion met, and a sentence read as turning two points round: one the tests decide,
    one they do not."""

    def grade(self, rubric: Rubric, answer: str):
        crits = [CriterionGrade(id=c.id, verdict="met", points=c.points, max_points=c.points, rationale="stub") for c in rubric.criteria]
        turned = [MisconceptionHit(id=cid, kind="turned", claim="turned", correction="right", penalty=0.5) for cid in ("correct-results", "dp-definition")]
        return graded(rubric, self.info(), crits, turned, Feedback(fix=["right", "right"]))


def test_what_the_tests_decide_no_turned_round_sentence_costs(rubric):
    code = "def max_subarray(nums):\n    best = cur = nums[0]\n    for x in nums[1:]:\n        cur = max(x, cur + x)\n        best = max(best, cur)\n    return best\n"
    g = grade_coding_answer(TurningJudge(), rubric, "用 Kadane。\n```python\n" + code + "```\n")
    assert g.code.passed == g.code.total > 0
    assert [m.id for m in g.misconceptions] == ["dp-definition"]
    assert g.score == rubric.max_points - 0.5 and g.feedback.fix == ["right"]
