"""Running a rubric's CodeCheck against a candidate's code, in a sandboxed subprocess.

The grading process only prepares and collects: it writes the spec, starts the harness
(harness.py) in a new session with a minimal environment, waits with a backstop timeout, then
kills the whole process group and every process of the run's private uid, and turns the harness's
record into a CodeReport. The harness does the isolating and the checking (see its docstring).

Time limit (`CodeCheck.time_limit_s`): wall clock for the candidate's whole run (loading the code
and every test); CPU time is capped a second or two above it. Memory (`memory_limit_mb`): address space
on top of the interpreter and numpy.

The interpreter runs as `python -s -P -B` rather than `-I`: -I implies -E, which would ignore the
PYTHONHASHSEED=0 that makes runs repeatable; the environment is built from scratch instead, so
-E would protect against nothing (no PYTHONPATH, PYTHONSTARTUP, ... can be present).
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.rubric.models import CodeCheck
from grader.sandbox import messages, policy
from grader.sandbox.report import CaseResult, CodeReport
from grader.sandbox.structure import missing_modules, structural_report

HARNESS = str(Path(__file__).resolve().parent / "harness.py")
TAIL_BYTES = 2000


def run_code_check(check: CodeCheck, code: str | None, *, extra_hidden: list[str | os.PathLike[str]] | None = None) -> CodeReport:
    """Run `check` against `code` (from extract_code; None or blank gives status no_code).
    `extra_hidden`: more files or directories the code must not see (a --db path, say); the
    store (GRADER_DB or the user data dir) and the judge config are always hidden."""
    return _run(check, code, extra_hidden=extra_hidden)


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
        ast.parse(code)  # parsing only: nothing of the candidate's runs here
    except SyntaxError as exc:
        line = exc.lineno
        source = (exc.text or "").strip()[:120] or None
        return messages.status_syntax_error(f"{type(exc).__name__}: {exc.msg}", line, source)
    except (ValueError, RecursionError, MemoryError) as exc:
        return messages.status_syntax_error(f"{type(exc).__name__}: {exc}"[:200], None, None)
    return None


def _run(check: CodeCheck, code: str | None, *, guard: bool = True, extra_hidden: list | None = None) -> CodeReport:
    """`guard=False` switches off the in-process audit guard, leaving the OS layers alone: only
    for the tests that prove those layers hold by themselves."""
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
    if not hasattr(os, "fork") or sys.platform == "win32":
        return _failed(check, "running code needs Linux or macOS", started)
    try:
        workdir = tempfile.mkdtemp(prefix="grader-sandbox-")
    except OSError as exc:
        return _failed(check, f"cannot create a work directory: {exc.strerror}", started)
    try:
        pol = policy.make_policy(workdir, extra_hidden)
        if pol.uid is not None:  # used as is where no mount namespace gives it a tmpfs
            os.chown(workdir, pol.uid, pol.gid)  # type: ignore[arg-type]
        return _execute(check, code, pol, guard, started)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _spec(check: CodeCheck, code: str, pol: policy.Policy, guard: bool, token: str) -> dict:
    tests = []
    for t, (label, described) in zip(check.tests, _labels(check)):
        tests.append({
            "name": t.name, "criterion": t.criterion, "call": t.call, "expect": t.expect, "check": t.check,
            "reference": t.compare_reference, "tolerance": t.tolerance, "label": label, "described": described,
        })
    return {
        "token": token, "code": code, "entry": check.entry, "kind": check.kind, "signature": check.signature,
        "setup": check.setup, "reference": check.reference, "tests": tests, "requires": list(check.requires),
        "guard": guard, "isolation": pol.isolation_spec(),
        "limits": {
            "time_s": check.time_limit_s, "memory_mb": check.memory_limit_mb, "output_bytes": policy.OUTPUT_CAP,
            "nproc": policy.NPROC, "nofile": policy.NOFILE, "workdir_mb": policy.WORKDIR_MB,
            "checker_fsize": policy.CHECKER_FSIZE,
        },
    }


def _execute(check: CodeCheck, code: str, pol: policy.Policy, guard: bool, started: float) -> CodeReport:
    token = secrets.token_hex(16)
    backstop = policy.STARTUP_ALLOWANCE_S + 2 * check.time_limit_s
    with tempfile.TemporaryFile() as spec_f, tempfile.TemporaryFile() as result_f, tempfile.TemporaryFile() as out_f:
        spec_f.write(json.dumps(_spec(check, code, pol, guard, token)).encode())
        spec_f.seek(0)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-s", "-P", "-B", HARNESS, str(result_f.fileno())],
                stdin=spec_f, stdout=out_f, stderr=out_f, pass_fds=(result_f.fileno(),), cwd=pol.workdir,
                env=policy.environment(pol.workdir), start_new_session=True,
            )
        except OSError as exc:
            return _failed(check, f"cannot start Python: {exc.strerror}", started)
        timed_out = False
        try:
            proc.wait(timeout=backstop)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_all(proc.pid, pol.uid)
            proc.wait()
        result_f.seek(0)
        raw = result_f.read(policy.CHECKER_FSIZE + 1)
        size = out_f.seek(0, os.SEEK_END)
        out_f.seek(max(0, size - TAIL_BYTES))
        tail = out_f.read().decode("utf-8", errors="replace")
    duration = time.perf_counter() - started
    try:
        record = json.loads(raw) if raw else None
    except ValueError:
        record = None
    if not isinstance(record, dict) or record.get("token") != token:
        return _no_record(check, proc.returncode, timed_out, tail, duration)
    if record.get("status") == "internal":
        return _failed(check, str(record.get("error", "unknown error")).strip().splitlines()[-1], started, tail)
    cases = [CaseResult(**{k: c[k] for k in ("name", "criterion", "passed", "message", "ran")}) for c in record["cases"]]
    status, message = record["status"], record["message"]
    if status == "ok" and size >= policy.OUTPUT_CAP:
        status, message = "output_limit", messages.status_output(policy.OUTPUT_CAP, None)
    return CodeReport(
        status=status, message=message, cases=cases, duration_s=duration, output_tail=tail,
        isolation=record.get("isolation", {}), run_s=record.get("run_s"),
    )


def _no_record(check: CodeCheck, returncode: int | None, timed_out: bool, tail: str, duration: float) -> CodeReport:
    """The harness left no authentic record: it ran past the backstop or was killed."""
    if timed_out:
        return CodeReport(
            status="timeout", message=messages.status_timeout(check.time_limit_s, None),
            cases=_not_run(check, "the time limit was reached before it"), duration_s=duration, output_tail=tail,
        )
    if returncode is not None and returncode > 0:  # the harness failed before it could report
        last = next((ln for ln in reversed(tail.strip().splitlines()) if ln.strip()), "no output")
        return CodeReport(
            status="crashed", message=messages.status_sandbox_failed(f"the harness exited with code {returncode}"),
            cases=_not_run(check, "the sandbox failed"), duration_s=duration, output_tail=tail,
            sandbox_error=f"harness exit code {returncode}: {last}",
        )
    # Killed by a signal: the candidate reaching its checker where no PID namespace shields it.
    why = messages.signal_text(-returncode, hint=False) if returncode is not None and returncode < 0 else "no result"
    return CodeReport(
        status="crashed", message=messages.status_died(f"the grading process around it was killed: {why}", None),
        cases=_not_run(check, "the program crashed earlier"), duration_s=duration, output_tail=tail,
    )


def _failed(check: CodeCheck, detail: str, started: float, tail: str = "") -> CodeReport:
    return CodeReport(
        status="crashed", message=messages.status_sandbox_failed(detail), cases=_not_run(check, "the sandbox failed"),
        duration_s=time.perf_counter() - started, output_tail=tail, sandbox_error=detail,
    )


def _kill_all(pgid: int, uid: int | None) -> None:
    """The harness's process group, then anything still running as the run's private uid (a
    process that left the group with setsid cannot outlive the run)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if uid is None:
        return
    for _ in range(5):
        found = False
        for entry in os.listdir("/proc"):
            # The owner of /proc/PID is root once a process changed uid (not dumpable): read
            # the ids from its status instead.
            if entry.isdigit() and _runs_as(entry, uid):
                try:
                    os.kill(int(entry), signal.SIGKILL)
                    found = True
                except (ProcessLookupError, PermissionError):
                    pass
        if not found:
            return
        time.sleep(0.01)


def _runs_as(pid: str, uid: int) -> bool:
    """A live (not zombie) process with `uid` among its user ids."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"State:") and line.split()[1:2] == [b"Z"]:
                    return False
                if line.startswith(b"Uid:"):
                    return str(uid).encode() in line.split()[1:]
    except OSError:
        pass
    return False
