"""The system-call filter for the candidate's process, compiled with libseccomp (through the
`pyseccomp` binding) into classic BPF, in the grading process.

Two programs:
* `base`: handed to bubblewrap (`--seccomp FD`), in force from the moment the candidate's
  interpreter starts. Denies (EPERM) creating processes (fork, vfork, clone without
  CLONE_THREAD; clone3 answers ENOSYS so the C library falls back to clone, whose flags can be
  inspected), every socket, ptrace and reading or writing another process's memory, and the calls
  that change the sandbox itself (namespaces, mounts, keyrings, BPF, io_uring, modules).
  Threads stay allowed: numpy and torch start them.
* `no_exec`: loaded by the candidate's runner itself right before the candidate's code, denying
  execve/execveat (the runner had to be exec'd first, so bubblewrap's filter cannot deny it).

Calls made under another ABI (x32, i386) are refused by libseccomp's architecture check.
"""

from __future__ import annotations

import errno
import functools
import os
import tempfile

CLONE_THREAD = 0x00010000

DENIED = (
    "fork", "vfork", "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsmount", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "kcmp", "pidfd_open", "pidfd_getfd", "name_to_handle_at", "open_by_handle_at",
)
EXEC = ("execve", "execveat")


class Unavailable(RuntimeError):
    """No seccomp here (the binding or libseccomp is missing, or this is not Linux)."""


def _compile(extra: tuple[str, ...], base: bool) -> bytes:
    try:
        import pyseccomp as sc
    except (ImportError, OSError, RuntimeError) as exc:  # the binding loads libseccomp when imported
        raise Unavailable(f"libseccomp is not available ({exc})") from None
    f = sc.SyscallFilter(sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    names = (DENIED if base else ()) + extra
    for name in names:
        try:
            f.add_rule(deny, name)
        except (OSError, ValueError, RuntimeError):
            pass  # a call this kernel's table does not know cannot be made either
    if base:
        f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read()


@functools.lru_cache(maxsize=1)
def programs() -> tuple[bytes, bytes]:
    """(base, no_exec) as raw BPF instructions; raises Unavailable."""
    if not hasattr(os, "memfd_create"):
        raise Unavailable("seccomp needs Linux")
    try:
        return _compile((), True), _compile(EXEC, False)
    except Unavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of the binding means: no filter
        raise Unavailable(f"the filter could not be compiled ({type(exc).__name__}: {exc})") from None
