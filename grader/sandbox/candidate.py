"""The candidate's process: `python -S -s -B candidate.py CHANNEL_FD`, its spec on stdin.

Under bubblewrap this file and its two helpers (values.py, guard.py) are copied into the sandbox
on their own: nothing else of the grader is there. The spec holds only what the candidate's side
needs: the code, the entry point, the setup and the calls (the arguments), the limits. Expected
values, the reference and the validators stay in the checking process (harness.py).

It lowers its limits, loads the second seccomp program (no exec), installs the audit hook as a
tripwire that names the first forbidden operation, loads the code, calls it once per test and
streams each result back over the channel as one line of tagged JSON (values.py).

Stdlib, numpy and the two helpers only.
"""

from __future__ import annotations

import base64
import ctypes
import errno
import gc
import json
import linecache
import math
import os
import resource
import sys
import traceback
import types
import typing

_TYPING_NAMES = ("List", "Dict", "Tuple", "Set", "Optional", "Deque", "Iterable", "Sequence", "Any", "Union", "Callable")
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


class _Channel:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, record: dict) -> None:
        data = (json.dumps(record) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data) :]


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


# ---- limits and the second seccomp program -----------------------------------------------------


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _set_limits(limits: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["nofile"], limits["nofile"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["output_bytes"], limits["output_bytes"]))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(math.ceil(used.ru_utime + used.ru_stime + limits["time_s"])) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    current = _vm_size()  # room for memory_mb on top of the interpreter, numpy (and torch)
    if current:
        total = current + limits["memory_mb"] * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (total, total))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_seccomp(program: bytes) -> None:
    """Adds a compiled BPF program (8 bytes an instruction) to this process's filters."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.addressof(buf))
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0 or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")


# ---- the run -----------------------------------------------------------------------------------


def _status() -> dict[str, str]:
    """What the kernel says about this process: the layers actually in force."""
    wanted = ("Seccomp", "Seccomp_filters", "NoNewPrivs", "CapEff")
    try:
        with open("/proc/self/status") as f:
            return {k: v.strip() for k, _, v in (ln.partition(":") for ln in f) if k in wanted}
    except OSError:
        return {}


def main() -> None:
    chan = _Channel(int(sys.argv[1]))
    # The sandbox is up: anything missing after this is not its set-up.
    chan.send({"ev": "hello", "status": _status(), "pid": os.getpid()})
    try:
        pub = json.loads(sys.stdin.buffer.read())
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # the candidate reads nothing (input() gets EOF)
        os.close(devnull)
        path, lines, module = _prepare(pub)
    except BaseException:  # noqa: BLE001 - our own failure, before any candidate code: say so
        chan.send({"ev": "internal", "error": traceback.format_exc(limit=4)[-1500:]})
        os._exit(0)
    _load_and_test(pub, chan, path, lines, module)


def _prepare(pub: dict) -> tuple[str, list[str], types.ModuleType]:
    """Imports, limits, the module to load the code into, the filters: everything before the
    candidate's first line runs."""
    iso = pub["isolation"]
    sys.path[:] = [p for p in sys.path if p] + list(iso["site"])
    global values
    import numpy  # noqa: F401  (loaded before any limit, outside the candidate's budget)
    import values as values_module  # type: ignore[import-not-found]

    import guard  # type: ignore[import-not-found]

    values = values_module
    for name in pub["requires"]:
        __import__(name)
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
    _set_limits(pub["limits"])
    if iso.get("no_exec"):
        _load_seccomp(base64.b64decode(iso["no_exec"]))
    sys.path_importer_cache.clear()
    gc.collect()
    if pub["guard"]:
        guard.install(int(sys.argv[1]), iso["workdir"], iso["read_roots"])
    return path, lines, module


values: typing.Any = None


def _load_and_test(pub: dict, chan: _Channel, path: str, lines: list[str], module: types.ModuleType) -> None:
    code = pub["code"]
    # From here on the candidate's code runs: no more "internal" records are taken.
    chan.send({"ev": "ready", "status": _status()})
    try:
        exec(compile(code, path, "exec"), module.__dict__)
        entry = _find_entry(module, pub["entry"], pub["kind"])  # may instantiate `class Solution`
    except BaseException as exc:  # noqa: BLE001 - whatever the candidate raised while loading
        line, source = _where(exc, path, lines)
        kind = "exception"
        if isinstance(exc, MemoryError):
            kind = "memory"
        elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            kind = "output"
        chan.send({"ev": "load_error", "error": _safe_str(exc), "kind": kind, "line": line, "source": source})
        _finish(chan)
    if entry is None:
        defined = sorted(
            (f"class {k}" if isinstance(v, type) else f"{k}()")
            for k, v in module.__dict__.items() if getattr(v, "__module__", None) == "solution"
        )
        chan.send({"ev": "missing", "defined": defined[:50]})
        _finish(chan)
    chan.send({"ev": "loaded"})
    for i, call in enumerate(pub["calls"]):
        chan.send({"ev": "start", "i": i})
        try:
            ns = _fresh(pub["setup"])
            ns[pub["entry"]] = entry
            value = eval(compile(call, "<test>", "eval"), ns)
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


if __name__ == "__main__":
    try:
        main()
    finally:
        os._exit(70)
