"""The checking process: started by runner.py as `python -s -P -B harness.py RESULT_FD`, the full
spec on stdin. It never runs candidate code and the candidate's process cannot reach it (another
PID namespace under bubblewrap; nothing of this process is inherited but the channel's write end).

It computes the expected values from the rubric's reference, starts the candidate's process
(candidate.py: under bubblewrap, or bare where the user allowed that), sends it only the public
part of the spec (code, entry, setup, calls, limits), reads its results from a pipe whose reader
bounds the size of each line, the total and the nesting depth, judges them and writes the final
record to RESULT_FD.

Any failure of the channel (a record that is malformed, too large, too deep, of an unknown kind, or
none at all from a process that started) is reported as `channel`: the runner then gives the
tests no credit. Imports only the stdlib, numpy, orjson and this package's stdlib-only modules.
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, _ROOT)  # the package may sit outside site-packages (editable install, -s)
import importlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import typing  # noqa: E402

import numpy  # noqa: E402, F401
import orjson  # noqa: E402  (bounded nesting depth: a line of "[" cannot exhaust the stack)

from grader.sandbox import messages, values  # noqa: E402

del sys.path[0]

MAX_CHANNEL = 256 * 2**20  # everything the candidate's process may send
MAX_LINE = 80 * 2**20  # one record (an array result is base64 in one line)
CHANNEL = "@CHANNEL@"  # in the launch command: replaced by the channel's descriptor
EVENTS = frozenset({"hello", "ready", "internal", "loaded", "start", "case", "blocked", "load_error", "missing", "output_limit", "done"})


class ChannelError(Exception):
    """What came over the channel cannot be trusted."""


# The same namespace and message rules as the candidate's side (candidate.py has no side effects
# on import; it is also copied alone into the sandbox, so it cannot import from here).
from grader.sandbox.candidate import _fresh, _safe_str  # noqa: E402


# ---- the checking process --------------------------------------------------------------------


class Checker:
    def __init__(self, spec: dict, result_fd: int) -> None:
        self.token = spec.pop("token")
        self.spec = spec
        self.result_fd = result_fd
        self.facts: dict[str, str] = dict(spec["launch"]["facts"])
        self.facts["guard"] = "audit hook (tripwire)" if spec["guard"] else "off"

    # -- setting up

    def limit_self(self) -> None:
        lim = self.spec["limits"]
        cpu = int(60 + 4 * lim["time_s"])
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim["checker_fsize"], lim["checker_fsize"]))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    def expected_values(self) -> list[tuple[str, object]]:
        """(kind, value) per test: ("value", v) for `expect`/reference, ("check", None), or
        ("error", message) when the rubric's own test fails."""
        for name in self.spec["requires"]:
            importlib.import_module(name)
        out: list[tuple[str, object]] = []
        setup, reference = self.spec["setup"], self.spec["reference"]
        for test in self.spec["tests"]:
            if test["check"] is not None:
                out.append(("check", None))
                continue
            try:
                ns = _fresh(setup)
                if test["expect"] is not None:
                    value = eval(compile(test["expect"], "<expect>", "eval"), ns)
                else:
                    exec(compile(reference, "<reference>", "exec"), ns)
                    value = eval(compile(test["call"], "<test>", "eval"), ns)
                out.append(("value", value))
            except BaseException as exc:  # noqa: BLE001
                out.append(("error", _safe_str(exc)))
        return out

    def public_spec(self) -> dict:
        """All the candidate's process gets: the arguments of each test, never what they should give."""
        s = self.spec
        return {
            "code": s["code"], "entry": s["entry"], "kind": s["kind"], "setup": s["setup"], "guard": s["guard"],
            "calls": [t["call"] for t in s["tests"]], "limits": s["limits"], "isolation": s["launch"]["inside"],
            "requires": s["requires"],
        }

    # -- running

    def run(self) -> dict:
        self.limit_self()
        expected = self.expected_values()
        pub = json.dumps(self.public_spec()).encode()
        launch = self.spec["launch"]
        read_fd, write_fd = os.pipe()
        argv = [str(write_fd) if a == CHANNEL else a for a in launch["argv"]]
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, pass_fds=[write_fd, *launch["fds"]], cwd=launch["cwd"],
                env=launch["env"], start_new_session=True,
            )
        except OSError as exc:
            return {"status": "internal", "error": f"cannot start the candidate's process: {exc.strerror}"}
        os.close(write_fd)
        for fd in launch["fds"]:
            os.close(fd)
        try:
            proc.stdin.write(pub)  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass  # it died at once: the channel says how
        events = self.collect(read_fd, proc, started)
        events["run_s"] = time.monotonic() - (events.get("ready_at") or started)
        return self.judge(events, expected)

    def collect(self, fd: int, proc: subprocess.Popen, started: float) -> dict:
        lim = self.spec["limits"]
        ev: dict = {"results": {}, "blocked": None, "load_error": None, "missing": None, "done": False,
                    "started": None, "timed_out": False, "output_limit": False, "corrupt": None, "hello": False}
        deadline = started + lim["startup_s"] + lim["time_s"]  # until "ready": start-up and imports too
        pieces: list[bytes] = []  # of the line not yet complete (one result can be megabytes)
        pending = total = 0
        while not ev["done"] and ev["corrupt"] is None:
            if ev.get("ready_at") and deadline > ev["ready_at"] + lim["time_s"]:
                deadline = ev["ready_at"] + lim["time_s"]  # the candidate's own time starts at "ready"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                ev["timed_out"] = True
                break
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            pending += len(chunk)
            if total > MAX_CHANNEL:
                ev["corrupt"] = f"it sent more than {MAX_CHANNEL >> 20} MiB"
                break
            pieces.append(chunk)
            if b"\n" not in chunk:
                if pending > MAX_LINE:
                    ev["corrupt"] = f"a record longer than {MAX_LINE >> 20} MiB"
                continue
            *lines, rest = b"".join(pieces).split(b"\n")
            pieces, pending = [rest], len(rest)
            for line in lines:
                try:
                    self._record(line, ev)
                except BaseException as exc:  # noqa: BLE001 - untrusted bytes: any failure is the channel's
                    ev["corrupt"] = f"a record the checker cannot read ({type(exc).__name__})"
                    break
        if not ev["timed_out"] and ev["corrupt"] is None:
            try:  # it closed the channel: let it end by itself, so its exit status is its own
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever it is doing now, it is over
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        code = proc.returncode
        ev["signal"] = -code if code < 0 else (code - 128 if self.spec["launch"]["signal_exit"] and code > 128 else None)
        ev["exit"] = code if code >= 0 and ev["signal"] is None else None
        os.close(fd)
        return ev

    def _record(self, line: bytes, ev: dict) -> None:
        if len(line) > MAX_LINE:
            raise ChannelError("record too long")
        rec = orjson.loads(line)
        if not isinstance(rec, dict) or rec.get("ev") not in EVENTS:
            raise ChannelError("not a record")
        kind = rec["ev"]
        if kind == "case":
            if not isinstance(rec.get("i"), int) or not 0 <= rec["i"] < len(self.spec["tests"]):
                raise ChannelError("bad case index")
            if "value" in rec:
                rec["decoded"] = values.decode(rec["value"])  # bounded depth; raises on anything odd
            ev["results"].setdefault(rec["i"], rec)
        elif kind == "start" and isinstance(rec.get("i"), int):
            ev["started"] = rec["i"]
        elif kind == "blocked" and ev["blocked"] is None:
            ev["blocked"] = {k: str(rec.get(k))[:500] if rec.get(k) is not None else None for k in ("cat", "event", "target")}
        elif kind == "load_error" and ev["load_error"] is None:
            ev["load_error"] = rec
        elif kind == "missing":
            ev["missing"] = {"defined": [str(d)[:200] for d in rec.get("defined", [])][:50]}
        elif kind == "output_limit":
            ev["output_limit"] = True
        elif kind == "hello" and not ev["hello"]:
            ev["hello"] = True  # the first one is the runner's: the candidate's code has not run yet
            pid = rec.get("pid")
            self.facts["pid"] = f"{pid} (own PID namespace)" if pid in (1, 2) else str(pid)[:20]
        elif kind == "ready" and not ev.get("ready_at"):
            ev["ready_at"] = time.monotonic()
            st = rec.get("status") if isinstance(rec.get("status"), dict) else {}
            mode, filters = str(st.get("Seccomp", "?"))[:4], str(st.get("Seccomp_filters", "?"))[:4]
            if "seccomp" not in self.facts:
                self.facts["seccomp"] = f"{filters} filters in force" if mode == "2" else "none in force"
            self.facts["capabilities"] = "none" if str(st.get("CapEff", "")).strip("0") == "" else str(st.get("CapEff"))[:20]
        elif kind == "internal" and not ev.get("ready_at") and ev.get("internal") is None:
            ev["internal"] = str(rec.get("error", ""))[-1500:]
        elif kind == "done":
            ev["done"] = True

    # -- judging

    def judge(self, ev: dict, expected: list[tuple[str, object]]) -> dict:
        if ev["corrupt"] is not None:
            return {"status": "channel", "error": ev["corrupt"], "isolation": self.facts}
        if not ev["hello"]:
            return {"status": "internal", "error": "the sandboxed process did not start", "isolation": self.facts}
        if ev.get("internal"):
            # The harness failed in the candidate process before the candidate's code ran (such a
            # record is only taken before "ready", so the candidate's code cannot forge one).
            return {"status": "internal", "error": ev["internal"]}
        tests = self.spec["tests"]
        cases: list[dict | None] = []
        incidents: dict[str, str] = {}  # "memory" / "output" -> label of the first test it hit
        for i, test in enumerate(tests):
            rec = ev["results"].get(i)
            if rec is None:
                cases.append(None)
                continue
            if rec.get("kind") in ("memory", "output"):
                incidents.setdefault(rec["kind"], test["label"])
            cases.append(self.judge_case(test, rec, expected[i]))
        started = ev["started"]
        interrupted = started if started is not None and ev["results"].get(started) is None else None
        where = tests[interrupted]["label"] if interrupted is not None else None
        stop = self.why_stopped(ev)
        for i, test in enumerate(tests):
            if cases[i] is not None:
                continue
            if i == interrupted and stop is not None and stop["case"] is not None:
                cases[i] = {"passed": False, "ran": True, "message": stop["case"](test["label"])}
            else:
                reason = stop["reason"] if stop is not None else "the program stopped before it"
                cases[i] = {"passed": False, "ran": False, "message": messages.case_not_run(test["label"], reason)}
        for i, test in enumerate(tests):
            cases[i].update(name=test["name"], criterion=test["criterion"])  # type: ignore[union-attr]
        status, message = self.status(ev, stop, where, incidents, cases)  # type: ignore[arg-type]
        return {"status": status, "message": message, "cases": cases, "isolation": self.facts, "run_s": ev["run_s"]}

    def why_stopped(self, ev: dict) -> dict | None:
        """Why the tests did not all run: kind, the reason given for the tests not run, the
        message for the test that was running, and for a crash what killed it. None: all ran."""
        t = self.spec["limits"]["time_s"]
        if ev["blocked"] is not None:
            what = messages.blocked_text(ev["blocked"].get("cat", ""), ev["blocked"].get("target"), ev["blocked"].get("event"))
            return {"kind": "blocked", "reason": "the run was stopped after a forbidden operation",
                    "case": lambda label: messages.case_blocked(label, what)}
        if ev["timed_out"] or ev["signal"] == signal.SIGXCPU:
            return {"kind": "timeout", "reason": "the time limit was reached before it",
                    "case": lambda label: messages.case_timeout(label, t)}
        if ev["load_error"] is not None:
            memory = ev["load_error"].get("kind") == "memory"
            return {"kind": "load", "case": None,
                    "reason": "the code ran out of memory while loading" if memory else "the code crashed while loading"}
        if ev["missing"] is not None:
            return {"kind": "missing", "reason": f"the code does not define `{self.spec['entry']}`", "case": None}
        if not ev["done"]:
            if ev["signal"] is not None:
                why = messages.signal_text(ev["signal"])
            elif ev["exit"] == 70:  # the harness code in that process failed: the candidate broke it
                why = "it broke the test harness (e.g. by replacing built-in functions)"
            else:
                why = f"it exited with code {ev['exit']} before the tests finished"
            return {"kind": "died", "reason": "the program crashed earlier", "why": why,
                    "case": lambda label: messages.case_crashed(label, why)}
        return None

    def status(self, ev: dict, stop: dict | None, where: str | None, incidents: dict[str, str], cases: list[dict]) -> tuple[str, str]:
        """The most serious thing that happened: blocked > timeout > memory > output > crash >
        missing entry > ok."""
        lim = self.spec["limits"]
        kind = stop["kind"] if stop is not None else None
        load = ev["load_error"]
        if kind == "blocked":
            b = ev["blocked"]
            return "blocked", messages.status_blocked(messages.blocked_text(b.get("cat", ""), b.get("target"), b.get("event")), where)
        if kind == "timeout":
            return "timeout", messages.status_timeout(lim["time_s"], where)
        if load is not None and load.get("kind") == "memory":
            return "memory_limit", messages.status_memory(lim["memory_mb"], None)
        if "memory" in incidents:
            return "memory_limit", messages.status_memory(lim["memory_mb"], incidents["memory"])
        if "output" in incidents or ev["output_limit"]:
            return "output_limit", messages.status_output(lim["output_bytes"], incidents.get("output"))
        if kind == "load":
            return "crashed", messages.status_load_error(load.get("error", "error"), load.get("line"), load.get("source"))
        if kind == "died":
            return "crashed", messages.status_died(stop["why"], where)
        if kind == "missing":
            s = self.spec
            return "missing_entry", messages.status_missing_entry(s["entry"], s["signature"], ev["missing"].get("defined", []))
        passed = sum(1 for c in cases if c["passed"])
        return "ok", messages.status_ok(passed, len(cases))

    def judge_case(self, test: dict, rec: dict, exp: tuple[str, object]) -> dict:
        label, described = test["label"], test["described"]
        lim = self.spec["limits"]
        kind = rec.get("kind")
        if kind == "memory":
            return {"passed": False, "ran": True, "message": messages.case_memory(label, lim["memory_mb"])}
        if kind == "output":
            return {"passed": False, "ran": True, "message": messages.case_output(label, lim["output_bytes"])}
        if kind == "not_plain":
            return {"passed": False, "ran": True, "message": messages.case_not_plain(label, rec.get("error", "?"))}
        if kind == "exception":
            return {"passed": False, "ran": True, "message": messages.case_raised(label, rec.get("error", "?"), rec.get("line"), rec.get("source"))}
        if "decoded" not in rec:
            return {"passed": False, "ran": True, "message": messages.case_not_plain(label, "no value")}
        got = rec["decoded"]
        oracle, expected = exp
        if oracle == "error":
            return {"passed": False, "ran": True, "message": messages.case_rubric_error(label, str(expected))}
        if oracle == "check":
            try:
                ns = _fresh(self.spec["setup"])
                ns["result"] = got
                ok = bool(eval(compile(test["check"], "<check>", "eval"), ns))
            except Exception:  # noqa: BLE001 - a validator choking on a wrong type is a wrong answer
                ok = False
            rec["_passed"] = ok
            text = messages.case_passed(label) if ok else messages.case_invalid(label, values.show(got), described)
            return {"passed": ok, "ran": True, "message": text}
        try:
            ok = values.same(got, expected, test["tolerance"])
        except Exception:  # noqa: BLE001 - a value too odd to compare is not the expected one
            ok = False
        rec["_passed"] = ok
        if ok:
            text = messages.case_passed(label)
        else:
            hint = values.difference(got, expected)
            text = messages.case_wrong(label, values.show(got), values.show(expected), described, hint)
        return {"passed": ok, "ran": True, "message": text}


    def main(self) -> typing.NoReturn:
        try:
            record = self.run()
        except BaseException:  # noqa: BLE001 - report, never hang or die silently
            record = {"status": "internal", "error": traceback.format_exc(limit=6)[-2000:]}
        record["token"] = self.token
        data = json.dumps(record).encode()
        while data:
            data = data[os.write(self.result_fd, data) :]
        os._exit(0)


def main() -> None:
    result_fd = int(sys.argv[1])
    checker = Checker(json.loads(sys.stdin.buffer.read()), result_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the candidate reads nothing (input() gets EOF)
    os.close(devnull)
    checker.main()


if __name__ == "__main__":
    main()
