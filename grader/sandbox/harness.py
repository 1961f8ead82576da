"""The sandbox harness: started by runner.py as `python -s -P -B harness.py RESULT_FD`, spec on stdin.

It becomes two processes:

* the checker (this process) isolates itself (isolate.py), drops privileges, computes the expected
  values from the rubric's reference, forks the candidate process, reads its results, judges them
  and writes the final record to RESULT_FD. It never runs candidate code, so the reference, the
  `check` validators and the comparison cannot be tampered with, and the candidate never holds
  the result descriptor or the record's token;
* the candidate process (the fork) drops what it must not see (expected values, reference),
  lowers its own limits, installs the audit guard (guard.py), loads the candidate's code and calls
  it once per test, streaming each result back over a pipe as tagged JSON (values.py).

Imports only the stdlib, numpy and this package's stdlib-only modules.
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, _ROOT)  # the package may sit outside site-packages (editable install, -s)
import errno  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import linecache  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402
import typing  # noqa: E402

import _posixsubprocess  # noqa: E402, F401  (the guard replaces its fork_exec; the sandbox user may not reach it later)

import numpy  # noqa: E402, F401  (loaded before any limit, outside the candidate's budget)

from grader.sandbox import guard, isolate, messages, values  # noqa: E402

del sys.path[0]

MAX_CHANNEL = 256 * 2**20
# Imported up front when the sandbox user could not reach the installation to import them later.
_PRELOAD = (
    "collections", "heapq", "bisect", "itertools", "functools", "math", "random", "re", "string",
    "dataclasses", "copy", "operator", "statistics", "fractions", "decimal", "array", "queue", "enum",
)
# Names a LeetCode-style answer uses without importing them.
_TYPING_NAMES = ("List", "Dict", "Tuple", "Set", "Optional", "Deque", "Iterable", "Sequence", "Any", "Union", "Callable")


def _fresh(setup: str) -> dict:
    ns: dict = {"__name__": "__test__"}
    if setup:
        exec(compile(setup, "<setup>", "exec"), ns)
    return ns


def _safe_str(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception:
        text = type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


# ---- the candidate process -------------------------------------------------------------------


class _Channel:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, record: dict) -> None:
        data = (json.dumps(record) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data) :]


def _where(exc: BaseException, filename: str, lines: list[str]) -> tuple[int | None, str | None]:
    """The deepest line of the candidate's own file in the traceback (without reading files)."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            line = lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    source = lines[line - 1].strip()[:120] if line and 0 < line <= len(lines) else None
    return line, source


def _find_entry(module: types.ModuleType, entry: str, kind: str) -> object | None:
    ns = module.__dict__
    wanted = (lambda v: isinstance(v, type)) if kind == "class" else callable
    if entry in ns and wanted(ns[entry]):
        return ns[entry]
    # maxSubArray for max_subarray: same letters, case and underscores aside
    norm = entry.replace("_", "").lower()
    own = [v for k, v in ns.items() if getattr(v, "__module__", None) == module.__name__ and not k.startswith("__")]
    for v in own:
        if getattr(v, "__name__", "").replace("_", "").lower() == norm and wanted(v):
            return v
    if kind == "function":  # a LeetCode `class Solution` holding the method
        classes = sorted((v for v in own if isinstance(v, type)), key=lambda c: c.__name__ != "Solution")
        for cls in classes:
            for name, member in vars(cls).items():
                if name.replace("_", "").lower() == norm and callable(member):
                    return getattr(cls(), name)
    return None


def candidate_main(pub: dict, fd: int, userns: bool, facts: dict[str, str]) -> None:
    chan = _Channel(fd)
    try:
        path, lines, module = _prepare(pub, chan, userns, facts)
    except BaseException:  # noqa: BLE001 - our own failure, before any candidate code: say so
        chan.send({"ev": "internal", "error": traceback.format_exc(limit=4)[-1500:]})
        os._exit(0)
    _load_and_test(pub, chan, path, lines, module)


def _prepare(pub: dict, chan: _Channel, userns: bool, facts: dict[str, str]) -> tuple[str, list[str], types.ModuleType]:
    """Limits, privileges, the module to load the code into, the guard: everything before the
    candidate's first line runs."""
    limits, iso = pub["limits"], pub["isolation"]
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["output_bytes"], limits["output_bytes"]))
    cpu = int(math.ceil(limits["time_s"])) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    isolate.limit_address_space(limits["memory_mb"] * 2**20)  # reads /proc: before it changes
    if userns:
        if facts.get("processes") == "pid namespace":
            isolate.private_proc(facts)
            chan.send({"ev": "facts", "proc": facts["proc"]})  # for the record: only this process knows
        isolate.drop_capabilities(facts)
    for stream in (sys.stdout, sys.stderr):  # what was printed survives a kill at the time limit
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    path = os.path.join(os.getcwd(), "solution.py")
    code = pub["code"]
    try:  # a real file, so tracebacks and __file__ make sense to the candidate
        with open(path, "w", encoding="utf-8") as f:
            f.write(code)
    except OSError:
        pass
    lines = code.splitlines()
    linecache.cache[path] = (len(code), None, [ln + "\n" for ln in lines], path)
    module = types.ModuleType("solution")
    module.__file__ = path
    for name in _TYPING_NAMES:
        setattr(module, name, getattr(typing, name))
    sys.modules["solution"] = module
    # Imports look only inside the installation: a project directory on sys.path (an editable
    # install) is hidden from this process and would be refused by the guard anyway.
    roots = [os.path.realpath(r) for r in iso["read_roots"]]
    sys.path[:] = [p for p in sys.path if p and any(os.path.realpath(p) == r or os.path.realpath(p).startswith(r + "/") for r in roots)]
    sys.path_importer_cache.clear()
    gc.collect()
    if pub["guard"]:
        guard.install(chan.fd, iso["workdir"], iso["read_roots"])
    return path, lines, module


def _load_and_test(pub: dict, chan: _Channel, path: str, lines: list[str], module: types.ModuleType) -> None:
    code = pub["code"]
    chan.send({"ev": "ready"})  # from here on the candidate's code runs: no more "internal" records
    try:
        exec(compile(code, path, "exec"), module.__dict__)
        entry = _find_entry(module, pub["entry"], pub["kind"])  # may instantiate `class Solution`
    except BaseException as exc:  # noqa: BLE001 - whatever the candidate raised while loading
        line, source = _where(exc, path, lines)
        kind = "memory" if isinstance(exc, MemoryError) else "exception"
        chan.send({"ev": "load_error", "error": _safe_str(exc), "kind": kind, "line": line, "source": source})
        _finish(chan)
    if entry is None:
        defined = sorted(
            (f"class {k}" if isinstance(v, type) else f"{k}()")
            for k, v in module.__dict__.items() if getattr(v, "__module__", None) == "solution"
        )
        chan.send({"ev": "missing", "defined": defined})
        _finish(chan)
    chan.send({"ev": "loaded"})
    for i, test in enumerate(pub["tests"]):
        chan.send({"ev": "start", "i": i})
        try:
            ns = _fresh(pub["setup"])
            ns[pub["entry"]] = entry
            value = eval(compile(test["call"], "<test>", "eval"), ns)
            record = {"ev": "case", "i": i, "value": values.encode(value)}
        except values.NotPlain as exc:
            record = {"ev": "case", "i": i, "kind": "not_plain", "error": str(exc)}
        except MemoryError:
            record = {"ev": "case", "i": i, "kind": "memory", "error": "MemoryError"}
        except BaseException as exc:  # noqa: BLE001
            kind = "output" if isinstance(exc, OSError) and exc.errno == errno.EFBIG else "exception"
            line, source = _where(exc, path, lines)
            record = {"ev": "case", "i": i, "kind": kind, "error": _safe_str(exc), "line": line, "source": source}
        ns = value = None  # type: ignore[assignment]
        chan.send(record)
    _finish(chan)


def _finish(chan: _Channel) -> typing.NoReturn:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError as exc:
            if exc.errno == errno.EFBIG:
                chan.send({"ev": "output_limit"})
        except BaseException:  # noqa: BLE001
            pass
    chan.send({"ev": "done"})
    os._exit(0)


# ---- the checking process --------------------------------------------------------------------


class Checker:
    def __init__(self, spec: dict, result_fd: int) -> None:
        self.token = spec.pop("token")
        self.spec = spec
        self.result_fd = result_fd
        self.facts: dict[str, str] = {"network": "none", "filesystem": "none", "guard": "audit hook" if spec["guard"] else "off"}

    # -- setting up

    def isolate(self) -> None:
        iso, lim = self.spec["isolation"], self.spec["limits"]
        for name in self.spec["requires"]:
            importlib.import_module(name)  # heavy modules load here, not in the candidate's budget
        root = os.geteuid() == 0
        uid = iso["uid"] if root else os.getuid()
        gid = iso["gid"] if root else os.getgid()
        if isolate.enter_namespaces(self.facts):
            try:
                isolate.mask_filesystem(iso["keep"], iso["hide"], iso["workdir"], lim["workdir_mb"], (uid, gid), self.facts)
            except OSError as exc:
                self.facts["filesystem"] = f"not masked ({exc})"
        cpu = int(60 + 4 * lim["time_s"])
        self.userns = self.facts.get("user") == "user namespace"
        fresh = (root and iso["uid"] is not None) or self.userns
        isolate.set_limits(lim["nproc"], lim["nofile"], lim["checker_fsize"], cpu, fresh)
        if self.facts["filesystem"] != "masked" and not isolate.reachable_by_others(iso["read_roots"]):
            for name in _PRELOAD:  # the sandbox user will not be able to import these later
                importlib.import_module(name)
            self.facts["imports"] = "preloaded"
        isolate.drop_privileges(iso["uid"] if root else None, iso["gid"] if root else None, self.facts)
        isolate.limit_address_space(max(2 * lim["memory_mb"], 1024) * 2**20)

    def expected_values(self) -> list[tuple[str, object]]:
        """(kind, value) per test: ("value", v) for `expect`/reference, ("check", None), or
        ("error", message) when the rubric's own test fails."""
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
        s = self.spec
        return {
            "code": s["code"], "entry": s["entry"], "kind": s["kind"], "setup": s["setup"], "guard": s["guard"],
            "tests": [{"call": t["call"]} for t in s["tests"]], "limits": s["limits"], "isolation": s["isolation"],
        }

    # -- running

    def run(self) -> dict:
        self.isolate()
        expected = self.expected_values()
        pub = self.public_spec()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        read_fd, write_fd = os.pipe()
        checker_pid = os.getpid()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the candidate process
            try:
                os.close(read_fd)
                os.close(self.result_fd)
                try:
                    os.setpgid(0, 0)  # its own group: kill(0, ...) cannot reach the checker
                except OSError:
                    pass
                isolate.set_parent_death_signal(signal.SIGKILL)  # dies with the checker
                if os.getppid() not in (checker_pid, 0):  # 0: the checker is outside our PID namespace
                    os._exit(0)  # the checker died before that was in place
                userns, facts = self.userns, self.facts
                # Nothing the candidate could dig out: the reference, the expected values, the token.
                expected.clear()
                self.spec.clear()
                self.__dict__.clear()
                candidate_main(pub, write_fd, userns, facts)
            finally:
                os._exit(70)
        os.close(write_fd)
        if self.userns:
            isolate.drop_capabilities(self.facts)
        events = self.collect(read_fd, pid, started)
        events["run_s"] = time.monotonic() - started
        return self.judge(events, expected)

    def collect(self, fd: int, pid: int, started: float) -> dict:
        deadline = started + self.spec["limits"]["time_s"]
        ev: dict = {"results": {}, "blocked": None, "load_error": None, "missing": None, "done": False,
                    "started": None, "timed_out": False, "output_limit": False, "overflow": False}
        pieces: list[bytes] = []  # of the line not yet complete (one result can be megabytes)
        total = 0
        while not ev["done"]:
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
            if total > MAX_CHANNEL:
                ev["overflow"] = True
                break
            pieces.append(chunk)
            if b"\n" not in chunk:
                continue
            *lines, rest = b"".join(pieces).split(b"\n")
            pieces = [rest]
            for line in lines:
                self._record(line, ev)
        try:
            os.kill(pid, signal.SIGKILL)  # whatever it is doing now, it is over
        except ProcessLookupError:
            pass
        _, status, usage = os.wait4(pid, 0)
        ev["signal"] = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        ev["exit"] = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        # As PID 1 of a namespace the process ignores SIGXCPU and dies of the SIGKILL at the hard
        # limit: its CPU time says it was the time limit (several busy threads beat the clock).
        cpu_limit = int(math.ceil(self.spec["limits"]["time_s"])) + 1
        ev["cpu_exhausted"] = usage.ru_utime + usage.ru_stime >= cpu_limit - 0.05
        os.close(fd)
        return ev

    @staticmethod
    def _record(line: bytes, ev: dict) -> None:
        try:
            rec = json.loads(line)
            kind = rec["ev"]
        except (ValueError, KeyError, TypeError):
            return
        if kind == "case" and isinstance(rec.get("i"), int):
            ev["results"].setdefault(rec["i"], rec)
        elif kind == "start" and isinstance(rec.get("i"), int):
            ev["started"] = rec["i"]
        elif kind == "blocked" and ev["blocked"] is None:
            ev["blocked"] = rec
        elif kind == "load_error" and ev["load_error"] is None:
            ev["load_error"] = rec
        elif kind == "missing":
            ev["missing"] = rec
        elif kind == "output_limit":
            ev["output_limit"] = True
        elif kind == "ready":
            ev["ready"] = True
        elif kind == "internal" and not ev.get("ready") and ev.get("internal") is None:
            ev["internal"] = str(rec.get("error", ""))[-1500:]
        elif kind == "facts" and rec.get("proc") in ("own pid namespace", "hidden", "shared"):
            ev["proc"] = rec["proc"]
        elif kind == "done":
            ev["done"] = True

    # -- judging

    def judge(self, ev: dict, expected: list[tuple[str, object]]) -> dict:
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
        if ev.get("proc"):
            self.facts["proc"] = ev["proc"]
        return {"status": status, "message": message, "cases": cases, "isolation": self.facts, "run_s": ev["run_s"]}

    def why_stopped(self, ev: dict) -> dict | None:
        """Why the tests did not all run: kind, the reason given for the tests not run, the
        message for the test that was running, and for a crash what killed it. None: all ran."""
        t = self.spec["limits"]["time_s"]
        if ev["blocked"] is not None:
            what = messages.blocked_text(ev["blocked"].get("cat", ""), ev["blocked"].get("target"), ev["blocked"].get("event"))
            return {"kind": "blocked", "reason": "the run was stopped after a forbidden operation",
                    "case": lambda label: messages.case_blocked(label, what)}
        if ev["timed_out"] or ev["signal"] == signal.SIGXCPU or (ev["signal"] == signal.SIGKILL and ev["cpu_exhausted"] and not ev["done"]):
            return {"kind": "timeout", "reason": "the time limit was reached before it",
                    "case": lambda label: messages.case_timeout(label, t)}
        if ev["load_error"] is not None:
            memory = ev["load_error"].get("kind") == "memory"
            return {"kind": "load", "case": None,
                    "reason": "the code ran out of memory while loading" if memory else "the code crashed while loading"}
        if ev["missing"] is not None:
            return {"kind": "missing", "reason": f"the code does not define `{self.spec['entry']}`", "case": None}
        if ev["overflow"] or not ev["done"]:
            if ev["overflow"]:
                why = "it sent more data than the checker accepts"
            elif ev["signal"] is not None:
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
        try:
            got = values.decode(rec.get("value"))
        except Exception:  # noqa: BLE001 - untrusted bytes
            return {"passed": False, "ran": True, "message": messages.case_not_plain(label, "a value the checker cannot read")}
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
