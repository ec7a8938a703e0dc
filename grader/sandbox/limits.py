"""Limits for a whole process tree: per-run cgroups (v2 or v1), rlimits as the floor, scratch size.

A cgroup holds every descendant of the sandbox's top process, including daemons that called
setsid() or double-forked, so memory and process counts are limited for the tree as a whole and
the tree can be killed completely. Where the cpu controller is available too, each run is one
entity to the CPU scheduler: a run of 60 spinning processes gets the same share of the CPU as a
neighbouring run of two, so a fork bomb cannot starve the other students of a batch. rlimits are per process; they are the floor that always holds
(file size, open files, core dumps, CPU time) and the only memory limit when no cgroup is usable.

The top process joins its run's cgroup in `preexec_fn`, after fork and before exec, so nothing
runs outside the cgroup even for a moment.
"""
from __future__ import annotations

import ctypes
import functools
import logging
import os
import resource
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.errors import SandboxError
from grader.sandbox.base import GIB, Limits

logger = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
_PREFIX = "grader-"  # run cgroups: grader-<pid of the grader>-<random>
_SCRATCH_PREFIX = "scratch-"  # scratch folders: scratch-<pid of the grader>-<random>


@dataclass(frozen=True)
class CgroupSupport:
    """Which cgroup mechanism this process can use, and where to create per-run groups."""

    version: Literal["v2", "v1"] | None
    memory_parent: Path | None = None  # v2: the one parent of every controller
    pids_parent: Path | None = None
    freezer_parent: Path | None = None
    cpu_parent: Path | None = None  # v1 only; v2 run groups get cpu when `cpu_shared` says so
    cpu_shared: bool = False  # each run has its own group in the cpu controller (fair CPU share)
    reason: str = ""  # why none is usable, for the sandbox description

    @property
    def available(self) -> bool:
        return self.version is not None

    def describe(self) -> str:
        if self.version is None:
            return f"no cgroup ({self.reason})"
        cpu = ", cpu share" if self.cpu_shared else ""
        return f"cgroup {self.version} (memory, pids{cpu})"


def _own_cgroup_paths() -> dict[str, str]:
    """Map each v1 controller (and "" for v2) to this process's cgroup path."""
    paths: dict[str, str] = {}
    try:
        text = Path("/proc/self/cgroup").read_text()
    except OSError:
        return paths
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(","):
            paths[controller] = parts[2]
    return paths


def _try_create(parent: Path) -> bool:
    """True when a child cgroup can be made (and removed) under `parent`."""
    probe = parent / f"{_PREFIX}probe-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        probe.rmdir()
    except OSError:
        logger.warning("could not remove probe cgroup %s", probe)
    return True


def _detect_v2(own: dict[str, str]) -> CgroupSupport | None:
    controllers_file = CGROUP_ROOT / "cgroup.controllers"
    if not controllers_file.exists():
        return None
    controllers = controllers_file.read_text().split()
    if "memory" not in controllers or "pids" not in controllers:
        return CgroupSupport(None, reason="cgroup v2 without memory and pids controllers")
    # v2 forbids processes in inner nodes ("no internal processes"), so run groups go under the
    # nearest group, starting at our own, that already delegates memory and pids to children.
    group = CGROUP_ROOT / own.get("", "/").lstrip("/")
    while True:
        try:
            delegated = set((group / "cgroup.subtree_control").read_text().split())
        except OSError:
            delegated = set()
        if {"memory", "pids"} <= delegated and _try_create(group):
            return CgroupSupport("v2", memory_parent=group, pids_parent=group,
                                 cpu_shared="cpu" in delegated)
        if group == CGROUP_ROOT:
            break
        group = group.parent
    return CgroupSupport(None, reason="no cgroup v2 group delegates memory and pids to the grader")


def _detect_v1(own: dict[str, str]) -> CgroupSupport:
    found: dict[str, Path] = {}
    for controller in ("memory", "pids", "freezer", "cpu"):
        base = CGROUP_ROOT / controller
        if not (base / "cgroup.procs").exists():
            continue
        parent = base / own.get(controller, "/").lstrip("/")
        if _try_create(parent):
            found[controller] = parent
        elif _try_create(base):
            found[controller] = base
    if "memory" not in found or "pids" not in found:
        missing = sorted({"memory", "pids"} - set(found))
        return CgroupSupport(None, reason=f"cgroup {', '.join(missing)} not writable")
    return CgroupSupport(
        "v1",
        memory_parent=found["memory"],
        pids_parent=found["pids"],
        freezer_parent=found.get("freezer"),
        cpu_parent=found.get("cpu"),
        cpu_shared="cpu" in found,
    )


@functools.lru_cache(maxsize=1)
def detect_cgroups() -> CgroupSupport:
    """The strongest cgroup mechanism usable here; probed once per process."""
    own = _own_cgroup_paths()
    support = _detect_v2(own)
    if support is None or not support.available:
        v1 = _detect_v1(own)
        if v1.available or support is None:
            support = v1
    logger.debug("cgroup support: %s", support)
    return support


def format_gib(n_bytes: int) -> str:
    """4 GiB -> "4", 512 MiB -> "0.5", 256 MiB -> "0.25"."""
    return f"{n_bytes / GIB:.3f}".rstrip("0").rstrip(".")


def _counter(path: Path, key: str) -> int:
    """The value of `key` in a cgroup events file of "key value" lines; 0 when unreadable."""
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


class RunCgroup:
    """One run's cgroup(s): created before spawn, joined in preexec, killed and removed at the end."""

    def __init__(self, support: CgroupSupport, limits: Limits) -> None:
        if not support.available:
            raise SandboxError(f"no usable cgroup: {support.reason}")
        self.support = support
        for parent in {support.memory_parent, support.pids_parent, support.freezer_parent, support.cpu_parent}:
            if parent is not None:
                sweep_stale_cgroups(parent)
        name = f"{_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.dirs: list[Path] = []
        try:
            if support.version == "v2":
                assert support.memory_parent is not None
                group = support.memory_parent / name
                group.mkdir()
                self.dirs.append(group)
                self.memory_dir = self.pids_dir = group
                self._write(group / "memory.max", str(limits.memory_bytes))
                self._write(group / "memory.swap.max", "0", optional=True)
                self._write(group / "pids.max", str(limits.max_processes))
            else:
                assert support.memory_parent is not None and support.pids_parent is not None
                self.memory_dir = support.memory_parent / name
                self.pids_dir = support.pids_parent / name
                for group in (self.memory_dir, self.pids_dir):
                    group.mkdir()
                    self.dirs.append(group)
                for optional_parent in (support.freezer_parent, support.cpu_parent):
                    if optional_parent is not None:
                        (optional_parent / name).mkdir()
                        self.dirs.append(optional_parent / name)
                self._write(self.memory_dir / "memory.limit_in_bytes", str(limits.memory_bytes))
                # memsw must be >= limit_in_bytes, so it is written second; absent without swap
                # accounting, in which case swap is not limited separately.
                self._write(
                    self.memory_dir / "memory.memsw.limit_in_bytes",
                    str(limits.memory_bytes),
                    optional=True,
                )
                self._write(self.pids_dir / "pids.max", str(limits.max_processes))
        except OSError as exc:
            self.remove()
            raise SandboxError(f"could not set up cgroup {name}: {exc}") from exc
        self.procs_files: tuple[bytes, ...] = tuple(
            os.fsencode(d / "cgroup.procs") for d in self.dirs
        )

    @staticmethod
    def _write(path: Path, value: str, optional: bool = False) -> None:
        try:
            path.write_text(value)
        except OSError:
            if not optional:
                raise
            logger.debug("optional cgroup setting %s not available", path.name)

    def join_self(self) -> None:
        """Move the calling process into this cgroup. Runs in preexec_fn: no locks, no logging."""
        pid = str(os.getpid()).encode()
        for procs in self.procs_files:
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def pids(self) -> set[int]:
        found: set[int] = set()
        for group in self.dirs:
            try:
                found.update(int(p) for p in (group / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                continue
        return found

    def memory_exceeded(self) -> bool:
        """True once the kernel's OOM killer acted inside this group."""
        events = "memory.events" if self.support.version == "v2" else "memory.oom_control"
        return _counter(self.memory_dir / events, "oom_kill") > 0

    def process_limit_hit(self) -> bool:
        """True once a fork or thread start in this group failed at pids.max."""
        return _counter(self.pids_dir / "pids.events", "max") > 0

    def kill_all(self, timeout_s: float = 5.0) -> bool:
        """SIGKILL every process in the group until it is empty. True when it emptied."""
        freezer = next((d for d in self.dirs if d.parent == self.support.freezer_parent), None)
        deadline = time.monotonic() + timeout_s
        while True:
            pids = self.pids()
            if not pids:
                return True
            # Freezing stops a fork bomb from outrunning the kill loop; SIGKILL reaches frozen tasks.
            if freezer is not None:
                self._write(freezer / "freezer.state", "FROZEN", optional=True)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if freezer is not None:
                self._write(freezer / "freezer.state", "THAWED", optional=True)
            if time.monotonic() > deadline:
                logger.warning("processes %s survived SIGKILL in cgroup", sorted(pids))
                return False
            time.sleep(0.02)

    def remove(self) -> None:
        for group in reversed(self.dirs):
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
            else:
                logger.warning("could not remove cgroup %s", group)
        self.dirs = []


def cpu_seconds(limits: Limits) -> int:
    if limits.cpu_time_s is not None:
        return max(1, int(limits.cpu_time_s))
    return max(1, int(limits.wall_time_s * (os.cpu_count() or 1)))


def rlimit_settings(limits: Limits, memory_per_process: bool, fresh_user: bool = False) -> list[tuple[int, int]]:
    """(resource, value) pairs applied to the top process; children inherit them.

    RLIMIT_AS is never set: torch reserves far more virtual memory than it uses. Without a cgroup,
    RLIMIT_DATA (private writable memory per process) is the memory floor instead. `fresh_user`:
    the tree runs as a uid of its own (grader.sandbox.user), so RLIMIT_NPROC counts its processes only.
    """
    settings = [
        (resource.RLIMIT_FSIZE, limits.max_file_bytes),
        (resource.RLIMIT_NOFILE, limits.max_open_files),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_CPU, cpu_seconds(limits)),
    ]
    if memory_per_process:
        settings.append((resource.RLIMIT_DATA, limits.memory_bytes))
    if fresh_user:
        settings.append((resource.RLIMIT_NPROC, limits.max_processes))
    elif os.geteuid() != 0:
        # RLIMIT_NPROC counts all of this user's processes and does not apply to root at all;
        # the pids cgroup is the real limit. Here it only bounds a fork bomb without one.
        settings.append((resource.RLIMIT_NPROC, limits.max_processes + _count_user_processes()))
    return settings


def _count_user_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def apply_rlimits(settings: list[tuple[int, int]]) -> None:
    """Set each limit (soft and hard), never above the current hard limit. preexec-safe."""
    for which, value in settings:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _prctl() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_PR_SET_PDEATHSIG = 1


def make_preexec(
    cgroup: RunCgroup | None, settings: list[tuple[int, int]]
) -> Callable[[], None]:
    """The child's set-up before exec: join the run's cgroup and take the rlimits while still the
    grader's user (a process that had dropped privilege first could not join, or could leave)."""
    prctl = _prctl()  # looked up before the fork: the child only calls it

    def preexec() -> None:
        if cgroup is not None:
            cgroup.join_self()
        apply_rlimits(settings)
        if prctl is not None:
            # a grader killed with SIGKILL takes the top process with it (bwrap does the same
            # with --die-with-parent); the rest of the tree is swept by the next grader
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return preexec


def _owner_gone(name: str, prefix: str) -> bool:
    """True for `<prefix><pid>-<hex>` when process <pid> no longer exists (its grader died)."""
    pid_text = name[len(prefix):].split("-", 1)[0]
    if not name.startswith(prefix) or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@functools.lru_cache(maxsize=16)
def sweep_stale_scratch(parent: Path) -> None:
    """Unmount and delete scratch folders left behind by graders that were killed (once per
    process and folder): their tmpfs would otherwise hold memory for good."""
    try:
        leftovers = [p for p in parent.iterdir() if _owner_gone(p.name, _SCRATCH_PREFIX)]
    except OSError:
        return
    for folder in leftovers:
        logger.info("removing the scratch folder %s of a grader that no longer runs", folder)
        remove_scratch(folder)


@functools.lru_cache(maxsize=16)
def sweep_stale_cgroups(parent: Path) -> None:
    """Kill and remove run cgroups left behind by graders that were killed (once per process
    and parent): whatever still runs in them belongs to nobody."""
    try:
        leftovers = [p for p in parent.iterdir() if p.is_dir() and _owner_gone(p.name, _PREFIX)]
    except OSError:
        return
    for group in leftovers:
        logger.info("removing the run cgroup %s of a grader that no longer runs", group)
        for _ in range(50):
            try:
                pids = [int(x) for x in (group / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.02)


def make_scratch(parent: Path, size_bytes: int) -> Path:
    """A fresh scratch folder under `parent`, size-limited when possible.

    As root, the folder is a private tmpfs of `size_bytes` (writes beyond it fail with ENOSPC;
    its pages count against the run's memory cgroup too). Elsewhere it is a plain folder and only
    RLIMIT_FSIZE bounds each file. Always release it with `remove_scratch`.
    """
    parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_scratch(parent)
    folder = parent / f"{_SCRATCH_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(mode=0o700)
    if os.geteuid() == 0 and _mount_tmpfs(folder, size_bytes):
        logger.debug("scratch %s is a tmpfs of %d bytes", folder, size_bytes)
    return folder


def scratch_is_limited(folder: Path) -> bool:
    """True when `folder` is a tmpfs mount point (made by `make_scratch` as root)."""
    return os.path.ismount(folder)


def _mount_tmpfs(folder: Path, size_bytes: int) -> bool:
    size = max(size_bytes, 4096)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700,nosuid,nodev", "tmpfs", str(folder)],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.debug("no tmpfs for scratch: %s", exc)
        return False
    if done.returncode != 0:
        logger.debug("no tmpfs for scratch: %s", done.stderr.decode(errors="replace").strip())
        return False
    return True


def remove_scratch(folder: Path) -> None:
    """Unmount (if a tmpfs) and delete a folder made by `make_scratch`."""
    if os.path.ismount(folder):
        done = subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)
        if done.returncode != 0:
            logger.warning("could not unmount scratch %s: %s", folder, done.stderr.decode(errors="replace"))
    shutil.rmtree(folder, ignore_errors=True)
