"""Linux confinement primitives for the processes that run student code.

Namespaces, capabilities, mounts, prctl flags and task counting, through
ctypes. Used by the runner's process mode (`runner.py`) and inside the
bubblewrap sandbox (`zygote.py`). Standard library only, so that
`sandbox.py` can start the sandbox before the grader imports torch.

Every function raises OSError when the kernel refuses; callers decide which
refusals are fatal and which only weaken the confinement.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWCGROUP = 0x02000000
NAMESPACE_FLAGS = (CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWUTS,
                   CLONE_NEWCGROUP)
CAP_SETGID = 6
CAP_SETUID = 7
CAP_SYS_ADMIN = 21

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_REC = 16384
MS_BIND_REC = MS_BIND | MS_REC
MS_NOEXEC = 8
MS_PRIVATE = 1 << 18

_SYS_MOUNT_SETATTR = {"x86_64": 442, "aarch64": 442, "riscv64": 442}
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_CAP_VERSION_3 = 0x20080522
# uid 0 gains nothing on exec, keep-caps stays off, no ambient raise; all locked. (Not
# NO_SETUID_FIXUP: leaving uid 0 must keep clearing every capability.)
_SECUREBITS = 0x01 | 0x02 | 0x20 | 0x40 | 0x80

LINUX = sys.platform.startswith("linux")
_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    if not LINUX:
        raise OSError(0, "prctl is Linux-only")
    ul = ctypes.c_ulong
    return _check(_lib().prctl(ctypes.c_int(option), ul(arg2), ul(arg3), ul(0), ul(0)), f"prctl({option})")


_MADV_HUGEPAGE = 14
_MADV_COLLAPSE = 25
_HUGE_PAGE = 2 << 20


def collapse_into_huge_pages() -> int:
    """Back this process's private anonymous memory (Python's objects and torch's heap) with
    transparent huge pages: a fork then copies one page-table entry per 2 MiB instead of 512,
    and a child's exit frees as few. A child's first write to a shared huge page splits it and
    copies 4 KiB, as before. Returns the bytes collapsed; 0 where the kernel cannot (before
    Linux 6.1, or transparent huge pages set to `never`), which only costs speed."""
    try:
        with open("/proc/self/maps") as f:
            lines = f.read().splitlines()
    except OSError:
        return 0
    lib = _lib()
    collapsed = 0
    for line in lines:
        fields = line.split()
        if len(fields) < 5 or fields[1] != "rw-p" or (len(fields) > 5 and fields[5] != "[heap]"):
            continue  # files' pages, the stack and guard pages stay as they are
        start, end = (int(v, 16) for v in fields[0].split("-"))
        start = -(-start // _HUGE_PAGE) * _HUGE_PAGE
        end = end // _HUGE_PAGE * _HUGE_PAGE
        if end <= start:
            continue
        address, size = ctypes.c_void_p(start), ctypes.c_size_t(end - start)
        if lib.madvise(address, size, ctypes.c_int(_MADV_HUGEPAGE)) == 0 and \
                lib.madvise(address, size, ctypes.c_int(_MADV_COLLAPSE)) == 0:
            collapsed += end - start
    return collapsed


def set_subreaper() -> None:
    """Orphans of our children are re-parented to us, not to init."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def set_dumpable(flag: bool) -> None:
    """A non-dumpable process's /proc files (fd, mem, environ) are closed to same-uid processes."""
    prctl(PR_SET_DUMPABLE, int(flag))


def set_no_new_privs() -> None:
    """execve can never grant privileges again (setuid bits and file capabilities are ignored)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def set_parent_death_signal(sig: int) -> None:
    prctl(PR_SET_PDEATHSIG, sig)


def unshare(flags: int) -> None:
    _check(_lib().unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_lib().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def fork_into_new_pid_namespace() -> int:
    """os.fork(), the child being process 1 of a fresh PID namespace.

    Needs CAP_SYS_ADMIN. The child cannot name (so cannot signal) any process
    outside its namespace, and when it dies the kernel kills every process
    inside: killing one pid kills the whole tree, orphans included. Only the
    calling thread's namespace for children changes, and it is restored.
    """
    own = os.open("/proc/thread-self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        unshare(CLONE_NEWPID)
        try:
            pid = os.fork()
        except BaseException:
            setns(own, CLONE_NEWPID)
            raise
        if pid == 0:
            return 0
        setns(own, CLONE_NEWPID)
        return pid
    finally:
        os.close(own)


def empty_network_namespace() -> int:
    """A file descriptor of a new network namespace (no interface up: no network), made in a
    short-lived thread so that no other thread moves. Joining it with setns is much cheaper
    than a namespace of its own per child. Needs CAP_SYS_ADMIN."""
    import threading

    result: list[int | BaseException] = []

    def make() -> None:
        try:
            unshare(CLONE_NEWNET)
            result.append(os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC))
        except OSError as exc:
            result.append(exc)

    thread = threading.Thread(target=make, name="grader-netns")
    thread.start()
    thread.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def map_own_ids(uid: int, gid: int) -> None:
    """Right after unshare(CLONE_NEWUSER): keep our uid and gid (read before the unshare;
    inside, they are unmapped until now) in the new namespace."""
    set_dumpable(True)  # a non-dumpable process (the grader makes itself one) cannot write its own maps
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = os.fsencode
    _check(_lib().mount(enc(source) if source else None, enc(target), enc(fstype) if fstype else None,
                        ctypes.c_ulong(flags), enc(data) if data else None), f"mount {target}")


def private_mounts() -> None:
    """Mount changes made from now on stay in this mount namespace."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)


def readonly_tree(path: str = "/") -> None:
    """Make every mount under `path` read-only (Linux >= 5.12)."""
    nr = _SYS_MOUNT_SETATTR.get(os.uname().machine)
    if nr is None:
        raise OSError(0, "mount_setattr: unknown system call number on this architecture")

    class MountAttr(ctypes.Structure):
        _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                    ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

    attr = MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
    _check(_lib().syscall(ctypes.c_long(nr), ctypes.c_int(_AT_FDCWD), os.fsencode(path),
                          ctypes.c_uint(_AT_RECURSIVE), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))),
           "mount_setattr")


def tmpfs(target: str, size_mb: int, mode: int = 0o1777) -> None:
    """A fresh, size-limited, memory-backed file system on `target`."""
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={max(1, size_mb)}m,mode={mode:o}")


def drop_capabilities_bounding() -> None:
    """While capabilities still allow it (CAP_SETPCAP): empty the bounding and ambient sets
    and lock the secure bits, so that nothing (exec as uid 0 included) grants any back."""
    for cap in range(64):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError:
            break  # past the last capability, or no CAP_SETPCAP
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError:
        pass
    try:
        prctl(PR_SET_SECUREBITS, _SECUREBITS)
    except OSError:
        pass


def drop_capabilities() -> None:
    """Give up every capability this process holds (in its user namespace)."""
    drop_capabilities_bounding()

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(_CAP_VERSION_3, 0)
    data = (Data * 2)()
    _check(_lib().capset(ctypes.byref(header), data), "capset")


def effective_capabilities() -> int:
    """The CapEff mask of this process (0 when it has none)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def tasks_of_uid(uid: int) -> int:
    """Threads whose real uid is `uid` among the processes this process can see:
    what RLIMIT_NPROC counts against."""
    total = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if not name.isdigit():
            continue
        real = threads = None
        try:
            with open(f"/proc/{name}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        real = int(line.split()[1])
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if real == uid and threads:
            total += threads
    return total


JOB_UID_FIRST = 0x3C000000
JOB_UID_COUNT = 1 << 26
"""Job uids: 0x3C000000 to 0x3FFFFFFF, a range no distribution gives to users or services."""
JOB_UIDS = range(JOB_UID_FIRST, JOB_UID_FIRST + JOB_UID_COUNT)


def job_uid(seed: int, serial: int) -> int:
    """An unprivileged uid that nothing else uses, one per job (like systemd's DynamicUser).

    Processes count against RLIMIT_NPROC per real uid, so a fresh uid makes the limit exact,
    and jobs cannot signal each other. A launcher takes `seed` at random and counts `serial`
    up from 1: a uid comes back only after 2**26 jobs, never while the same sandbox lives."""
    return JOB_UID_FIRST + (seed + serial) % JOB_UID_COUNT


def has_capability(cap: int) -> bool:
    return bool(effective_capabilities() >> cap & 1)


def privilege_problem() -> str | None:
    """Why a child of this process could not be made unprivileged (None: it can).

    Root gives each child an unused uid, which takes CAP_SETUID and CAP_SETGID; without
    them every child would keep uid 0. A non-root grader's children are never root."""
    if not LINUX or os.geteuid() != 0:
        return None
    missing = [name for cap, name in ((CAP_SETUID, "CAP_SETUID"), (CAP_SETGID, "CAP_SETGID"))
               if not has_capability(cap)]
    return f"the grader runs as root without {' and '.join(missing)}" if missing else None


def still_privileged() -> str | None:
    """In a child about to run student code: what privilege it still holds (None: nothing).
    Checked after every drop, so that a refusal the kernel did not report cannot slip by."""
    uids = os.getresuid()
    if 0 in uids:
        return f"uid 0 kept (real, effective, saved: {uids})"
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("CapEff:", "CapPrm:")) and int(line.split()[1], 16):
                    return f"capabilities kept ({line.strip()})"
    except OSError:
        pass
    return None


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real uid is `uid` (a job's unused uid: only that job's
    processes, orphans that left its session included). Returns how many were found."""
    import signal

    found = 0
    for _ in range(3):  # a process may fork while we look: look again
        seen = 0
        for name in _pids():
            if _real_uid(name) == uid:
                seen += 1
                try:
                    os.kill(int(name), signal.SIGKILL)
                except OSError:
                    pass
        found += seen
        if not seen:
            break
    return found


def _pids() -> list[str]:
    try:
        return [n for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []


def _real_uid(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue")


def remove_traces(uid: int) -> list[str]:
    """What a job that ran without namespaces of its own may leave on the host under its
    uid: System V shared memory, semaphores and message queues, and files in the folders
    every user may write. Removes them all; returns what it removed (for tests and logs)."""
    import shutil

    removed: list[str] = []
    for kind, rm in (("shm", _ipc_rm_shm), ("sem", _ipc_rm_sem), ("msg", _ipc_rm_msg)):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            # key id perms ... uid gid cuid cgid: owner and creator uid columns differ by kind
            ident = int(cols[1])
            uids = {int(c) for c in _ipc_uid_columns(kind, cols)}
            if uid in uids and rm(ident):
                removed.append(f"{kind}:{ident}")
    for top in SHARED_WRITABLE:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
                removed.append(entry.path)
            except OSError:
                continue
    return removed


def _ipc_uid_columns(kind: str, cols: list[str]) -> list[str]:
    # /proc/sysvipc/shm: key shmid perms size cpid lpid nattch uid gid cuid cgid ...
    # /proc/sysvipc/sem: key semid perms nsems uid gid cuid cgid ...
    # /proc/sysvipc/msg: key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid ...
    at = {"shm": 7, "sem": 4, "msg": 7}[kind]
    return [cols[at], cols[at + 2]]


def _ipc_rm_shm(ident: int) -> bool:
    return _lib().shmctl(ctypes.c_int(ident), ctypes.c_int(0), None) == 0


def _ipc_rm_sem(ident: int) -> bool:
    return _lib().semctl(ctypes.c_int(ident), ctypes.c_int(0), ctypes.c_int(0)) == 0


def _ipc_rm_msg(ident: int) -> bool:
    return _lib().msgctl(ctypes.c_int(ident), ctypes.c_int(0), None) == 0


def mount_proc() -> None:
    """A /proc of the PID namespace this process is process 1 of: it shows the job's own
    processes only. Needs a mount namespace of our own and CAP_SYS_ADMIN in it."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The `grader` package's folder (this module is in `grader/boundary/`)."""


def python_paths() -> list[str]:
    """The directories a child's Python needs: the interpreter, its standard library and
    site-packages (torch, numpy), and this package. Nothing else of the course."""
    import importlib.util
    import site
    import sysconfig

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.abspath(sys.executable)),
             os.path.dirname(os.path.realpath(sys.executable)),
             PACKAGE_DIR}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        found.add(sysconfig.get_path(name))
    try:
        found.update(site.getsitepackages())
    except AttributeError:
        pass
    for module in ("torch", "numpy"):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.submodule_search_locations:
            found.add(os.path.dirname(os.path.abspath(list(spec.submodule_search_locations)[0])))
    dirs = sorted({os.path.abspath(p) for p in found if p and os.path.isdir(p)})
    return [d for d in dirs if not any(d != o and d.startswith(o.rstrip("/") + "/") for o in dirs)]


# ------------------------------------------------------------------ system call filter

DENIED_SYSCALLS = (
    # reading or steering other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # kernel keyrings, eBPF, performance counters, page-fault handling from user space
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    # mounts and namespaces: the walls themselves
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen", "fsmount", "fsconfig",
    "fspick", "move_mount", "open_tree", "mount_setattr", "open_by_handle_at", "name_to_handle_at",
    # the machine itself
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
    "swapoff", "acct", "quotactl", "syslog", "iopl", "ioperm", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "vhangup", "uselib", "lookup_dcookie",
    # io_uring runs system calls that this filter would never see
    "io_uring_setup", "io_uring_enter", "io_uring_register",
)
"""What no exercise needs: denied with EPERM in every child, in every isolation mode."""
SYSV_IPC_SYSCALLS = ("shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
                     "msgget", "msgsnd", "msgrcv", "msgctl", "ipc")
"""Denied too where the job has no IPC namespace of its own (its objects would outlive it)."""


class SeccompFilter:
    """The child's system call filter, built once in the warm process (libseccomp through
    `pyseccomp`) and loaded in each child just before student code runs. `available` is
    False, with `missing` saying why, where libseccomp or pyseccomp is not installed."""

    def __init__(self, deny_sysv_ipc: bool) -> None:
        self.missing = ""
        self._filter: object | None = None
        self._program: Any = None
        try:
            import errno

            import pyseccomp as sc
        except (ImportError, OSError, RuntimeError) as exc:  # no pyseccomp, or no libseccomp.so
            self.missing = f"no system call filter (libseccomp unavailable: {exc})"
            return
        try:
            flt = sc.SyscallFilter(sc.ALLOW)
            names = DENIED_SYSCALLS + (SYSV_IPC_SYSCALLS if deny_sysv_ipc else ())
            for name in names:
                try:
                    flt.add_rule(sc.ERRNO(errno.EPERM), name)
                except (ValueError, RuntimeError, OSError):
                    continue  # not a system call on this architecture
            for flag in NAMESPACE_FLAGS:  # a fork into new namespaces
                flt.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
            # clone3 passes its flags in memory, out of a filter's sight: "not implemented" makes
            # the C library fall back to clone, whose flags are checked above
            flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
        except (ValueError, RuntimeError, OSError) as exc:
            self.missing = f"no system call filter (libseccomp refused it: {exc})"
            return
        self._filter = flt
        self.sysv_ipc_denied = deny_sysv_ipc
        self._program = _exported(flt)

    @property
    def available(self) -> bool:
        return self._filter is not None

    def load(self) -> None:
        """In the child, after no_new_privs: from now on the denied calls fail with EPERM.
        The program libseccomp compiled once in the warm process is installed as it is
        (one prctl: 0.56 ms and 60 page faults a child); libseccomp's own load compiled it
        again in every child (2.9 ms and 455 page faults)."""
        if self._program is not None:
            _install_program(self._program)
        elif self._filter is not None:
            self._filter.load()  # type: ignore[attr-defined]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _exported(flt: object) -> Any:
    """libseccomp's compiled BPF program for `flt`, as the kernel takes it; None where it
    cannot be exported (the filter is then loaded through libseccomp)."""
    try:
        fd = os.memfd_create("seccomp-bpf", 0)
    except (OSError, AttributeError):
        return None
    try:
        with os.fdopen(fd, "w+b") as f:
            flt.export_bpf(f)  # type: ignore[attr-defined]
            f.seek(0)
            raw = f.read()
    except (OSError, ValueError, RuntimeError):
        return None
    size = ctypes.sizeof(_SockFilter)
    if not raw or len(raw) % size or len(raw) // size > 0xFFFF:
        return None
    instructions = (_SockFilter * (len(raw) // size)).from_buffer_copy(raw)
    return instructions


def _install_program(instructions: Any) -> None:
    prog = _SockFprog(len(instructions), ctypes.cast(instructions, ctypes.POINTER(_SockFilter)))
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog))


# ------------------------------------------------------------------ cgroup v2: one wall per job

def _cgroup2_mount() -> str | None:
    try:
        with open("/proc/self/mounts") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    found = [m[1] for m in mounts if len(m) > 2 and m[2] == "cgroup2"]
    return "/sys/fs/cgroup" if "/sys/fs/cgroup" in found else (found[0] if found else None)


def cgroup_base() -> str | None:
    """The nearest cgroup v2 folder, from ours upwards, in which this process may create
    groups with the memory and pids controllers: the root as root, a delegated subtree
    (systemd `Delegate=yes`, user@.service) otherwise. None on cgroup v1 or without rights."""
    mount = _cgroup2_mount()
    if mount is None:
        return None
    own = "/"
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    own = line[3:].strip() or "/"
    except OSError:
        return None
    path = own
    while True:
        folder = os.path.join(mount, path.lstrip("/"))
        try:
            with open(os.path.join(folder, "cgroup.subtree_control")) as f:
                enabled = f.read().split()
        except OSError:
            enabled = []
        if {"memory", "pids"} <= set(enabled) and os.access(folder, os.W_OK):
            return folder
        if path in ("/", ""):
            return None
        path = os.path.dirname(path)


class JobCgroups:
    """A cgroup v2 of its own for each job, below one folder per grader process: every
    process of a job together held to `memory.max` (swap off) and `pids.max`, and killed
    together (`cgroup.kill`). A job's child joins its group by writing to a descriptor
    opened here (the kernel checks the opener's rights), so this works through the
    sandbox too, where no cgroup file system is mounted."""

    def __init__(self, base: str) -> None:
        self.root = os.path.join(base, f"course-grader-{os.getpid()}-{os.urandom(3).hex()}")
        os.mkdir(self.root, 0o755)
        try:
            with open(os.path.join(self.root, "cgroup.subtree_control"), "w") as f:
                f.write("+memory +pids")
        except OSError:
            os.rmdir(self.root)
            raise
        self._serial = 0
        self._dying: list[str] = []

    @classmethod
    def create(cls) -> JobCgroups | None:
        base = cgroup_base() if LINUX else None
        if base is None:
            return None
        try:
            return cls(base)
        except OSError:
            return None

    def new_job(self, memory_mb: int, processes: int) -> tuple[str, int]:
        """A fresh group for one job: its folder, and a descriptor of its `cgroup.procs` for
        the child to write "0" to (join)."""
        self._serial += 1
        folder = os.path.join(self.root, f"job-{self._serial}")
        os.mkdir(folder, 0o755)
        try:
            for name, value in (("memory.max", str(max(1, memory_mb) << 20)), ("memory.swap.max", "0"),
                                ("pids.max", str(max(1, processes)))):
                try:
                    with open(os.path.join(folder, name), "w") as f:
                        f.write(value)
                except FileNotFoundError:
                    if name != "memory.swap.max":  # no swap accounting: nothing to switch off
                        raise
            # (O_CREAT changes nothing on a cgroup file system, where the file always exists)
            return folder, os.open(os.path.join(folder, "cgroup.procs"), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC,
                                   0o644)
        except OSError:
            os.rmdir(folder)
            raise

    def end_job(self, folder: str) -> None:
        """Kill what is left in the group and remove it (later, if the kernel is still busy)."""
        try:
            with open(os.path.join(folder, "cgroup.kill"), "w") as f:
                f.write("1")
        except OSError:
            pass
        self._dying.append(folder)
        self._dying = [d for d in self._dying if not _rmdir(d)]

    def close(self) -> None:
        for folder in list(self._dying):
            self.end_job(folder)
        _rmdir(self.root)


def _rmdir(folder: str) -> bool:
    try:
        os.rmdir(folder)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def join_cgroup(procs_fd: int) -> None:
    """In a job's child, before anything else: move into the job's group."""
    os.write(procs_fd, b"0")
    os.close(procs_fd)
