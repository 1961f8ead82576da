"""Running a rubric's CodeCheck against a candidate's code, isolated by bubblewrap.

The grading process decides how the code may run and prepares everything: the bubblewrap command
(bwrap.py), the seccomp programs (seccomp.py), the packages the check needs (policy.py). It starts
the checking process (harness.py), which starts the candidate's process (candidate.py) with that
command, and turns the checker's record into a CodeReport.

Where bubblewrap cannot run (not installed, or the kernel refuses its namespaces), the code is
not run at all (status not_run) unless the user allowed running it without isolation
(policy.allow_unsandboxed). Any failure of the sandbox, the checker or the result channel gives
a report with `sandbox_error` set: the tests' criteria then get no credit (verdicts.py).

Time limit (`CodeCheck.time_limit_s`): wall clock for the candidate's own run (loading the code
and every test, from when its process is ready); CPU time is capped a second above it. Memory
(`memory_limit_mb`): address space on top of the interpreter and the imported packages.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.rubric.models import CodeCheck
from grader.sandbox import bwrap, messages, policy, seccomp
from grader.sandbox.extract import parse_python
from grader.sandbox.report import CaseResult, CodeReport
from grader.sandbox.structure import missing_modules, structural_report

HERE = Path(__file__).resolve().parent
HARNESS = str(HERE / "harness.py")
CANDIDATE_FILES = ("candidate.py", "values.py", "guard.py")  # all the sandbox gets of the grader
TAIL_BYTES = 2000
MAX_RECORD = policy.CHECKER_FSIZE


def run_code_check(check: CodeCheck, code: str | None, *, allow_unsandboxed: bool | None = None) -> CodeReport:
    """Run `check` against `code` (from extract_code; None or blank gives status no_code).
    `allow_unsandboxed`: run even without OS isolation (default: policy.unsandboxed_allowed())."""
    return _run(check, code, allow_unsandboxed=allow_unsandboxed)


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 150 else text[:149] + "…"


def _labels(check: CodeCheck) -> list[tuple[str, bool]]:
    return [(_label(t.description).rstrip(" ."), True) if t.description else (_label(t.call), False) for t in check.tests]


def _not_run(check: CodeCheck, reason: str) -> list[CaseResult]:
    return [
        CaseResult(name=t.name, criterion=t.criterion, passed=False, ran=False, message=messages.case_not_run(label, reason))
        for t, (label, _) in zip(check.tests, _labels(check))
    ]


def _syntax_error(code: str) -> str | None:
    try:
        parse_python(code)  # parsing only: nothing of the candidate's runs here
    except SyntaxError as exc:
        line = exc.lineno
        source = (exc.text or "").strip()[:120] or None
        return messages.status_syntax_error(f"{type(exc).__name__}: {exc.msg}", line, source)
    except (ValueError, RecursionError, MemoryError) as exc:
        return messages.status_syntax_error(f"{type(exc).__name__}: {exc}"[:200], None, None)
    return None


def isolation_problem() -> str | None:
    """None when bubblewrap can isolate code here, else why not (plain words)."""
    exe = bwrap.find()
    if exe is None:
        return "bubblewrap (bwrap) is not installed"
    why = bwrap.probe(exe)
    return None if why is None else f"bubblewrap cannot create its namespaces here ({why})"


def _run(check: CodeCheck, code: str | None, *, guard: bool = True, allow_unsandboxed: bool | None = None) -> CodeReport:
    """`guard=False` switches off the in-process audit hook, leaving the OS layers alone: only for
    the tests that prove those layers hold by themselves."""
    started = time.perf_counter()
    if code is None or not code.strip():
        return CodeReport(status="no_code", message=messages.status_no_code(), cases=_not_run(check, "no code was found"))
    error = _syntax_error(code)
    if error is not None:
        return CodeReport(
            status="syntax_error", message=error, cases=_not_run(check, "the code does not compile"),
            duration_s=time.perf_counter() - started,
        )
    missing = missing_modules(check)
    if missing:
        return structural_report(check, code, missing, time.perf_counter() - started)
    if sys.platform != "linux":
        problem: str | None = "running code is isolated only on Linux"
    else:
        problem = isolation_problem()
    allowed = policy.unsandboxed_allowed() if allow_unsandboxed is None else allow_unsandboxed
    if problem is not None and not allowed:
        return CodeReport(
            status="not_run", message=messages.status_not_run(problem, installed=bwrap.find() is not None), cases=_not_run(check, "no OS isolation is available"),
            duration_s=time.perf_counter() - started, isolation={"sandbox": f"none: {problem}"},
        )
    workdir = None
    opened: list[int] = []
    try:
        modules = tuple(dict.fromkeys(policy.BASE_MODULES + tuple(check.requires)))
        try:
            packages = policy.package_entries(modules)
        except (OSError, RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            return _failed(check, f"cannot find the packages the check needs: {exc}", started)
        if problem is None:
            launch = _bwrap_launch(check, packages, opened)
        else:
            workdir = tempfile.mkdtemp(prefix="grader-unsandboxed-")
            launch = _bare_launch(packages, workdir, problem)
        return _execute(check, code, launch, guard, started)
    except OSError as exc:
        return _failed(check, f"cannot prepare the sandbox: {exc}", started)
    finally:
        for fd in opened:
            try:
                os.close(fd)
            except OSError:
                pass
        if workdir is not None:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def _memfd(name: str, data: bytes, opened: list[int]) -> int:
    fd = os.memfd_create(name, 0)  # not close-on-exec: bubblewrap reads it
    opened.append(fd)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _bwrap_launch(check: CodeCheck, packages: tuple[tuple[str, str], ...], opened: list[int]) -> dict:
    facts = {
        "sandbox": "bubblewrap",
        "namespaces": "user, mount, pid, network, ipc, uts, cgroup",
        "network": "none (network namespace)",
        "filesystem": "Python stdlib and " + ", ".join(n for _, n in packages) + " read-only; private tmpfs work directory",
        "user": "no capabilities, no new privileges",
    }
    files = [(_memfd(name, (HERE / name).read_bytes(), opened), f"{bwrap.LIB}/{name}") for name in CANDIDATE_FILES]
    seccomp_fd = None
    no_exec = None
    try:
        base, strict = seccomp.programs()
        seccomp_fd = _memfd("seccomp", base, opened)
        no_exec = base64.b64encode(strict).decode("ascii")
    except seccomp.Unavailable as exc:
        facts["seccomp"] = f"not applied: {exc}"
    binds, _ = bwrap.python_binds()
    argv = [bwrap.interpreter(), "-S", "-s", "-B", f"{bwrap.LIB}/candidate.py", "@CHANNEL@"]
    env = policy.environment(bwrap.WORK)
    command = bwrap.command(bwrap.find() or "bwrap", list(packages), files, seccomp_fd, policy.WORKDIR_MB, env, argv)
    inside = {
        "site": [bwrap.SITE], "workdir": bwrap.WORK, "no_exec": no_exec,
        "read_roots": [bwrap.LIB, bwrap.SITE] + [dest for _, dest in binds],
    }
    return {"argv": command, "fds": list(opened), "cwd": "/", "env": {"PATH": "/usr/bin:/bin"}, "facts": facts,
            "inside": inside, "signal_exit": True}


def _bare_launch(packages: tuple[tuple[str, str], ...], workdir: str, problem: str) -> dict:
    """No OS isolation (the user allowed it): limits and the audit hook only."""
    sites = sorted({os.path.dirname(src) for src, _ in packages})
    binds, _ = bwrap.python_binds()
    facts = {
        "sandbox": f"none, allowed by the user ({problem})",
        "network": "not isolated",
        "filesystem": "not isolated: everything this user can read or write",
        "user": "the same user",
        "seccomp": "not applied",
    }
    inside = {"site": sites, "workdir": workdir, "no_exec": None,
              "read_roots": sites + [str(HERE)] + [dest for _, dest in binds]}
    argv = [bwrap.interpreter(), "-S", "-s", "-B", str(HERE / "candidate.py"), "@CHANNEL@"]
    return {"argv": argv, "fds": [], "cwd": workdir, "env": policy.environment(workdir), "facts": facts,
            "inside": inside, "signal_exit": False}


def _spec(check: CodeCheck, code: str, launch: dict, guard: bool, token: str) -> dict:
    tests = []
    for t, (label, described) in zip(check.tests, _labels(check)):
        tests.append({
            "name": t.name, "criterion": t.criterion, "call": t.call, "expect": t.expect, "check": t.check,
            "reference": t.compare_reference, "tolerance": t.tolerance, "label": label, "described": described,
        })
    return {
        "token": token, "code": code, "entry": check.entry, "kind": check.kind, "signature": check.signature,
        "setup": check.setup, "reference": check.reference, "tests": tests, "requires": list(check.requires),
        "guard": guard, "launch": launch,
        "limits": {
            "time_s": check.time_limit_s, "memory_mb": check.memory_limit_mb, "output_bytes": policy.OUTPUT_CAP,
            "nofile": policy.NOFILE, "checker_fsize": policy.CHECKER_FSIZE, "startup_s": policy.STARTUP_ALLOWANCE_S,
        },
    }


def _execute(check: CodeCheck, code: str, launch: dict, guard: bool, started: float) -> CodeReport:
    token = secrets.token_hex(16)
    backstop = 2 * policy.STARTUP_ALLOWANCE_S + 2 * check.time_limit_s
    facts = dict(launch["facts"])
    with tempfile.TemporaryFile() as spec_f, tempfile.TemporaryFile() as result_f, tempfile.TemporaryFile() as out_f:
        spec_f.write(json.dumps(_spec(check, code, launch, guard, token)).encode())
        spec_f.seek(0)
        env = {k: v for k, v in policy.environment(tempfile.gettempdir()).items()}
        try:
            proc = subprocess.Popen(
                [sys.executable, "-s", "-P", "-B", HARNESS, str(result_f.fileno())],
                stdin=spec_f, stdout=out_f, stderr=out_f, pass_fds=(result_f.fileno(), *launch["fds"]),
                env=env, start_new_session=True,
            )
        except OSError as exc:
            return _failed(check, f"cannot start Python: {exc.strerror}", started, facts=facts)
        timed_out = False
        try:
            proc.wait(timeout=backstop)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        result_f.seek(0)
        raw = result_f.read(MAX_RECORD + 1)
        size = out_f.seek(0, os.SEEK_END)
        out_f.seek(max(0, size - TAIL_BYTES))
        tail = out_f.read().decode("utf-8", errors="replace")
    duration = time.perf_counter() - started
    try:
        record = json.loads(raw) if raw and len(raw) <= MAX_RECORD else None
    except (ValueError, RecursionError):
        record = None
    if not isinstance(record, dict) or record.get("token") != token:
        why = "the checker did not finish in time" if timed_out else f"the checker exited with code {proc.returncode} and no result"
        return _failed(check, why, started, tail, facts=facts)
    facts.update({str(k): str(v) for k, v in (record.get("isolation") or {}).items()})
    status = record.get("status")
    if status == "internal":
        lines = [ln for ln in str(record.get("error", "unknown error")).strip().splitlines() if ln.strip()]
        detail = lines[-1] if lines else "unknown error"
        if detail == "the sandboxed process did not start":
            bw = next((ln for ln in reversed(tail.strip().splitlines()) if ln.strip()), "")
            detail += f" ({bw[:300]})" if bw else ""
        return _failed(check, detail, started, tail, facts=facts)
    if status == "channel":
        return _failed(check, messages.channel_failed(str(record.get("error"))), started, tail, facts=facts, channel=True)
    try:
        cases = [CaseResult(**{k: c[k] for k in ("name", "criterion", "passed", "message", "ran")}) for c in record["cases"]]
        message = str(record["message"])
        report = CodeReport(
            status=status, message=message, cases=cases, duration_s=duration, output_tail=tail,
            isolation=facts, run_s=record.get("run_s"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        return _failed(check, f"the checker's record is malformed ({type(exc).__name__})", started, tail, facts=facts)
    if report.status == "ok" and size >= policy.OUTPUT_CAP:
        report = report.model_copy(update={"status": "output_limit", "message": messages.status_output(policy.OUTPUT_CAP, None)})
    return report


def _failed(check: CodeCheck, detail: str, started: float, tail: str = "", *, facts: dict | None = None, channel: bool = False) -> CodeReport:
    message = messages.status_channel_failed(detail) if channel else messages.status_sandbox_failed(detail)
    return CodeReport(
        status="crashed", message=message, cases=_not_run(check, "the sandbox failed"),
        duration_s=time.perf_counter() - started, output_tail=tail, sandbox_error=detail, isolation=facts or {},
    )
