"""Everything the candidate reads about a run, in one place so the wording stays consistent.

Used by the grading process and by the sandbox harness, so stdlib only."""

from __future__ import annotations

import signal

# What a blocked operation was, in the candidate's words (category -> verb phrase).
BLOCKED_WHAT = {
    "network": "open a network connection",
    "process": "start another process",
    "signal": "send a signal to another process",
    "native": "call native code through ctypes",
    "limits": "change its resource limits",
    "read": "read a file outside its working directory",
    "write": "write or change a file outside its working directory",
    "link": "create a file link",
    "path": "open a file through an unusual path object",
}

_SIGNAL_HINTS = {
    "SIGSEGV": "segmentation fault: a crash in native code, or recursion too deep after raising the recursion limit",
    "SIGABRT": "aborted",
    "SIGKILL": "killed",
    "SIGBUS": "bus error",
    "SIGFPE": "arithmetic error",
}


def mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:g} MiB" if n_bytes >= 2**20 else f"{n_bytes // 1024} KiB"


def signal_text(signum: int, hint: bool = True) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
    text = _SIGNAL_HINTS.get(name) if hint else None
    return f"{name}, {text}" if text else name


def blocked_text(category: str, target: str | None = None, event: str | None = None) -> str:
    """"open a network connection (socket.connect)", "read a file outside ... (/etc/passwd)"."""
    what = BLOCKED_WHAT.get(category, "do something not allowed")
    detail = target or event
    return f"{what} ({detail})" if detail else what


# ---- one test case ---------------------------------------------------------------------------


def case_passed(label: str) -> str:
    return f"{label} passed"


def case_wrong(label: str, got: str, expected: str, described: bool, hint: str | None = None) -> str:
    return f"{label}{':' if described else ''} returned {got}, expected {expected}" + (f" ({hint})" if hint else "")


def case_invalid(label: str, got: str, described: bool) -> str:
    return f"{label}{':' if described else ''} returned {got}, which is not a valid answer"


def case_raised(label: str, error: str, line: int | None, source: str | None) -> str:
    where = f" (line {line}: {source})" if line and source else (f" (line {line})" if line else "")
    return f"{label} raised {error}{where}"


def case_memory(label: str, memory_mb: int) -> str:
    return f"{label} ran out of memory (limit {memory_mb} MB)"


def case_output(label: str, cap: int) -> str:
    return f"{label} wrote more than {mib(cap)} (printed output or a file)"


def case_not_plain(label: str, what: str) -> str:
    return f"{label} returned {what}; return plain values (numbers, strings, lists, tuples, dicts, numpy arrays)"


def case_timeout(label: str, seconds: float) -> str:
    return f"{label} did not finish within the {seconds:g} s time limit"


def case_crashed(label: str, why: str) -> str:
    return f"{label} crashed the program ({why})"


def case_blocked(label: str, what: str) -> str:
    return f"{label} tried to {what}; the run was stopped"


def case_not_run(label: str, reason: str) -> str:
    return f"{label} was not run: {reason}"


def case_rubric_error(label: str, error: str) -> str:
    return f"{label} could not be checked (error in the rubric's test, not in your code: {error})"


# ---- the run as a whole ----------------------------------------------------------------------


def in_test(label: str | None) -> str:
    return f" in `{label}`" if label else ""


def status_ok(passed: int, total: int) -> str:
    return f"Ran {total} tests: {passed} passed, {total - passed} failed."


def status_no_code() -> str:
    return "No Python code was found in the answer, so nothing could be run; put the function in a ```python block."


def status_syntax_error(error: str, line: int | None, source: str | None) -> str:
    where = f" (line {line}: {source})" if line and source else (f" (line {line})" if line else "")
    return f"The code does not compile: {error}{where}."


def status_missing_entry(entry: str, signature: str, defined: list[str]) -> str:
    found = f" It defines: {', '.join(defined[:8])}." if defined else ""
    return f"The code does not define `{entry}`; the question asks for `{signature}`.{found}"


def status_timeout(seconds: float, label: str | None) -> str:
    return (
        f"The code was stopped at the {seconds:g} s time limit{in_test(label)}; "
        "look for an infinite loop or an algorithm that is too slow."
    )


def status_memory(memory_mb: int, label: str | None) -> str:
    return f"The code ran out of memory (limit {memory_mb} MB){in_test(label)}."


def status_output(cap: int, label: str | None) -> str:
    return f"The code wrote more than {mib(cap)} (printed output or a file){in_test(label)}; the writing was cut off."


def status_load_error(error: str, line: int | None, source: str | None) -> str:
    where = f" (line {line}: {source})" if line and source else (f" (line {line})" if line else "")
    return f"The code crashed while loading: {error}{where}."


def status_died(why: str, label: str | None) -> str:
    return f"The program crashed{in_test(label)} ({why})."


def status_blocked(what: str, label: str | None) -> str:
    return f"The code tried to {what}{in_test(label)}, which is not allowed while grading; the run was stopped."


def status_structural(missing: list[str]) -> str:
    names = ", ".join(missing)
    return f"{names} is not installed here, so the code was checked statically (searched for the required parts), not run."


def status_sandbox_failed(detail: str) -> str:
    return f"The code could not be run: the grading sandbox failed ({detail}). This is not a fault in your code."


def status_channel_failed(detail: str) -> str:
    return f"The test results could not be trusted: {detail}. No test credit is given; the grading is marked for review."


def channel_failed(detail: str) -> str:
    return f"the channel from the code's process was corrupted ({detail})"


OPT_IN = (
    "to run it anyway, pass --allow-unsandboxed-code or set allow_unsandboxed_code = true in the config "
    "(the code can then read and change anything your user can)"
)


def status_not_run(problem: str, installed: bool = False) -> str:
    fix = "Allow user namespaces for bubblewrap" if installed else "Install bubblewrap"
    return f"The code was not run: {problem}, so it cannot be isolated. {fix}, or {OPT_IN}."
