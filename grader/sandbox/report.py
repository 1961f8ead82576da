"""What running a candidate's code produced: the report the criterion verdicts are built from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal[
    "ok",  # the code ran; each case says whether it passed
    "no_code",  # no Python code in the answer
    "syntax_error",  # the code does not compile
    "missing_entry",  # the code does not define the function or class the question asks for
    "timeout",  # wall-clock or CPU time limit reached
    "memory_limit",  # memory limit reached (MemoryError)
    "output_limit",  # printed more than the output cap
    "crashed",  # exception while loading, or the process died
    "blocked",  # a forbidden operation (network, processes, signals, files outside the work dir, ...)
    "structural",  # a required module is missing: checked statically, not run
    "not_run",  # no OS isolation here and running without it was not allowed
]

# Statuses for which no test was run at all.
NOT_RUN: frozenset[str] = frozenset({"no_code", "syntax_error", "structural", "not_run"})


class CaseResult(BaseModel):
    """One test case (or, for status structural, one static check)."""

    model_config = ConfigDict(frozen=True)

    name: str
    criterion: str
    passed: bool
    # For the candidate: what was called, what came back, what was expected (or why it did not run).
    message: str
    kind: Literal["test", "structure"] = "test"
    ran: bool = True


class CodeReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Status
    message: str  # one sentence on the run as a whole, for the candidate
    cases: list[CaseResult] = Field(default_factory=list)
    duration_s: float = 0.0  # wall time of the whole check, sandbox start-up included
    run_s: float | None = None  # wall time of the candidate's own run: what time_limit_s bounds
    output_tail: str = ""  # the end of what the code printed (stdout and stderr together)
    # Which isolation layers were in force (sandbox, namespaces, network, filesystem, user,
    # seccomp, guard), as the sandboxed process itself reported them: for the record.
    isolation: dict[str, str] = Field(default_factory=dict)
    # Set when the sandbox itself failed: nothing here is the candidate's fault.
    sandbox_error: str | None = None

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @property
    def total(self) -> int:
        return len(self.cases)
