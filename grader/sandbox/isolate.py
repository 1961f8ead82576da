"""OS-level isolation, applied by the sandbox harness to itself before any candidate code is in
the process (stdlib only). Layers, each tried and recorded, none fatal if the system refuses it:

* a new network namespace: only a loopback device that is down, so no connection can be made;
* a new mount namespace in which every top-level directory except the system ones (/usr, /etc,
  /lib, /dev, /proc, /sys ...) is covered by an empty tmpfs, with only the Python installation
  and the work directory mounted back: the grading database, the user's home and project, other
  temporary files simply do not exist in there. The work directory itself becomes a small tmpfs;
* resource limits (processes, open files, file size, CPU, core dumps);
* an unprivileged user: as root, a fresh uid per run (RLIMIT_NPROC does not bind root, and a uid of
  its own means the candidate can signal or read nothing of anyone else's, not even another run);
  as a normal user, a user namespace whose capabilities are dropped after the mounts are made.
"""

from __future__ import annotations

import ctypes
import os
import resource
import stat

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 32, 4096, 16384, 1 << 18
MS_RDONLY = 1
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38

# Top-level directories left visible: what the interpreter and the C library need, nothing personal.
SYSTEM_TOP = frozenset({"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "sys"})

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), "prctl")


def set_parent_death_signal(signum: int) -> None:
    prctl(PR_SET_PDEATHSIG, signum)


# ---- namespaces --------------------------------------------------------------------------------


def enter_namespaces(facts: dict[str, str]) -> bool:
    """Returns whether a private mount namespace was entered (masks can be applied)."""
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        if _libc.unshare(CLONE_NEWNS | CLONE_NEWNET) == 0:
            facts["network"] = "namespace"
            return True
        if _libc.unshare(CLONE_NEWNET) == 0:
            facts["network"] = "namespace"
        return False
    # A normal user: a user namespace owns the new network and mount namespaces.
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) != 0:
        return False
    try:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    except OSError:
        return False
    facts["network"] = "namespace"
    facts["user"] = "user namespace"
    return True


# ---- the masked filesystem view ------------------------------------------------------------------


def _strictly_under(path: str, root: str) -> bool:
    return path.startswith(root.rstrip("/") + "/")


def _mask(directory: str, keep: list[str]) -> None:
    """Cover `directory` with an empty tmpfs, then mount back the paths in `keep` under it."""
    if directory in keep:
        return
    children = sorted({k[len(directory) :].lstrip("/").split("/")[0] for k in keep if _strictly_under(k, directory)})
    handles = []
    for child in children:
        try:  # a handle on the real entry, taken before the tmpfs hides it
            fd = os.open(os.path.join(directory, child), os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        handles.append((child, fd, stat.S_ISDIR(os.fstat(fd).st_mode)))
    mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k,nr_inodes=512")
    for child, fd, is_dir in handles:
        target = os.path.join(directory, child)
        if is_dir:
            os.mkdir(target)
        else:
            open(target, "w").close()
        mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        os.close(fd)
        _mask(target, [k for k in keep if k == target or _strictly_under(k, target)])
    try:  # nothing may be added next to the kept paths
        mount(None, directory, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    except OSError:
        pass


def mask_filesystem(keep: list[str], hide: list[str], workdir: str, workdir_mb: int, owner: tuple[int, int], facts: dict[str, str]) -> None:
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here leaks back to the host
    keep = sorted({os.path.realpath(k) for k in keep} | {os.path.realpath(workdir)})
    for name in sorted(os.listdir("/")):
        top = "/" + name
        if name in SYSTEM_TOP or os.path.islink(top) or not os.path.isdir(top):
            continue
        _mask(top, [k for k in keep if k == top or _strictly_under(k, top)])
    for path in hide:  # the store and config, should they sit in a system directory
        if any(k == path or _strictly_under(k, path) for k in keep):
            continue  # never hide what must stay (a data dir that holds the work dir, say)
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k")
        else:
            mount("/dev/null", path, None, MS_BIND)
    if os.path.isdir("/dev/shm"):  # world-writable and in memory: give it no room
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k")
    uid, gid = owner
    mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0700,uid={uid},gid={gid},size={workdir_mb}m,nr_inodes=4096")
    os.chdir(workdir)  # the cwd still pointed at the directory under the new tmpfs
    facts["filesystem"] = "masked"
    if os.geteuid() == 0 and facts.get("user") != "user namespace":
        try:  # other users' processes become invisible
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
        except OSError:
            pass


def reachable_by_others(paths: list[str]) -> bool:
    """Whether an unrelated uid can get to every path (each ancestor searchable by 'other')."""
    for p in paths:
        parts = os.path.realpath(p).split("/")
        for i in range(2, len(parts) + 1):
            d = "/".join(parts[:i]) or "/"
            try:
                if not os.stat(d).st_mode & stat.S_IXOTH:
                    return False
            except OSError:
                return False
    return True


# ---- limits and privileges ---------------------------------------------------------------------


def _count_processes(uid: int) -> int:
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                n += os.stat(f"/proc/{entry}").st_uid == uid
            except OSError:
                pass
    return n


def set_limits(nproc: int, nofile: int, fsize: int, cpu_s: int, sandbox_uid: int | None) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
    # RLIMIT_NPROC counts every process of the real uid: a fresh uid starts at zero, a normal
    # user already has some.
    base = 0 if sandbox_uid is not None else _count_processes(os.getuid())
    resource.setrlimit(resource.RLIMIT_NPROC, (base + nproc, base + nproc))


def vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_address_space(extra_bytes: int) -> None:
    """Room for `extra_bytes` more on top of what is mapped now (the interpreter, numpy)."""
    total = vm_size() + extra_bytes
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        total = min(total, hard)
    resource.setrlimit(resource.RLIMIT_AS, (total, total))


def drop_privileges(uid: int | None, gid: int | None, facts: dict[str, str]) -> None:
    if uid is not None and os.geteuid() == 0:
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)  # type: ignore[arg-type]
            os.setresuid(uid, uid, uid)  # all ids non-zero: the kernel clears every capability
            facts["user"] = f"uid {uid}"
        except OSError as exc:
            facts["user"] = f"root (could not drop: {exc.strerror})"
    elif facts.get("user") == "user namespace":
        for cap in range(64):  # the namespace granted full capabilities: give them all back
            _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        if _libc.capset(header, data) == 0:
            facts["user"] = "user namespace, no capabilities"
    else:
        facts.setdefault("user", "same user")
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    except OSError:
        pass
