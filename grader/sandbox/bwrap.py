"""The bubblewrap backend: the command runs in fresh namespaces that see almost nothing of the host.

Inside: read-only /usr (and the /bin, /lib... links or folders), the few /etc files Python and
matplotlib need, the grader's Python installation (exactly sys.prefix and sys.base_prefix, never
their parents such as /root), the grader package at /opt/grader-pkg/grader, a fresh /proc and /dev,
a private size-limited /tmp, and read-write only the run's scratch and outbox folders, each at its
own host path. No network (own network namespace: loopback only), own PID namespace (the whole tree
dies with its pid 1), no capabilities, only the environment the caller passed in spec.env.

Limits come from the shared runner in `process`: the bwrap process is put into the run's cgroup
before it execs, so everything it starts is held by the same limits and killed together.
"""
from __future__ import annotations

import dataclasses
import functools
import glob
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grader_inside
from grader.errors import SandboxError
from grader.sandbox.base import SandboxResult, SandboxSpec
from grader.sandbox.limits import CgroupSupport, detect_cgroups, format_gib
from grader.sandbox.process import limits_description, run_tree, sandbox_env, scratch_note

logger = logging.getLogger(__name__)

PACKAGE_ROOT = "/opt/grader-pkg"  # inside: the in-sandbox package is PACKAGE_ROOT/grader_inside
SANDBOX_TMP = "/tmp"
COLAB_CONTENT = "/content"
_TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",  # Debian: /usr/bin/python3 and friends may point here
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/fonts",
    "/etc/mime.types",
    "/etc/matplotlibrc",
    "/etc/hosts",
)


def python_dirs() -> list[str]:
    """The grader's Python installation: prefixes and their real paths, nothing above them."""
    found: list[str] = []
    for prefix in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix):
        for path in (os.path.abspath(prefix), os.path.realpath(prefix)):
            if path not in found and not _under(path, "/usr"):
                found.append(path)
    return found


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def system_args() -> list[str]:
    """Read-only system: /usr, the top-level folders or merged-/usr links, selected /etc files."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in _TOP_LEVEL:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def nvidia_args() -> list[str]:
    """GPU device nodes and driver libraries; empty where the host has no NVIDIA GPU."""
    args: list[str] = []
    for node in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind", node, node]
    if not args:
        return args
    libs: set[str] = set()
    try:
        listing = subprocess.run(
            ["ldconfig", "-p"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    for line in listing.splitlines():
        name, _, path = line.strip().partition(" => ")
        if name.startswith(("libcuda.so", "libnvidia-")) and path:
            libs.update({path, os.path.realpath(path)})
    bound: set[str] = set()
    for lib in sorted(libs):
        if not os.path.exists(lib):
            continue
        # ldconfig may name a library through a merged-/usr link (/lib/x -> /usr/lib/x): the
        # sandbox has the same links, so what matters is where the file and its folder really are.
        real = os.path.realpath(lib)
        canonical = os.path.join(os.path.realpath(os.path.dirname(lib)), os.path.basename(lib))
        for dest in {real, canonical}:
            if not _under(dest, "/usr") and dest not in bound:
                bound.add(dest)
                args += ["--ro-bind", real, dest]
    return args


def namespace_args() -> list[str]:
    # --unshare-all includes the network namespace; --share-net is never passed.
    return ["--unshare-all", "--unshare-pid", "--die-with-parent", "--new-session"]


def build_argv(bwrap: str, spec: SandboxSpec, env: dict[str, str], status_fd: int | None) -> list[str]:
    args = [bwrap, *namespace_args(), *system_args()]
    if spec.init:
        args.append("--as-pid-1")
    args += ["--proc", "/proc", "--dev", "/dev"]
    # the private /tmp first: a Python environment or checkout that lives under /tmp is bound
    # on top of it afterwards instead of being hidden by it. /dev/shm (POSIX semaphores, torch
    # DataLoader workers) is a bounded tmpfs of its own; the rest of /dev is made read-only below.
    # /content: Colab's working folder, where notebooks save models and unzip data; writable and
    # bounded like /tmp, with read-only data mounts (/content/afhq, Drive) bound on top of it.
    for folder in (SANDBOX_TMP, "/dev/shm", COLAB_CONTENT):
        args += [*tmpfs_size_args(bwrap, spec.limits.scratch_bytes), "--tmpfs", folder]
    for path in python_dirs():
        args += ["--ro-bind", os.path.realpath(path), path]
    args += ["--ro-bind", str(Path(grader_inside.__file__).resolve().parent), f"{PACKAGE_ROOT}/grader_inside"]
    scratch = str(spec.scratch.resolve())
    outbox = str(spec.outbox.resolve())
    args += ["--bind", scratch, scratch, "--bind", outbox, outbox]
    for mount in spec.mounts:
        if not mount.source.exists():
            raise SandboxError(f"mount source {mount.source} does not exist")
        flag = "--bind" if mount.writable else "--ro-bind"
        args += [flag, str(mount.source.resolve()), mount.inside(scratch)]
    if spec.device == "cuda":
        args += nvidia_args()
    # The sandbox's root and /dev are bwrap's own unbounded tmpfs: made read-only so only
    # scratch, outbox, /tmp, /dev/shm (and writable mounts) take writes. Device nodes still work.
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", scratch, "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if status_fd is not None:
        args += ["--json-status-fd", str(status_fd)]
    return [*args, "--", *spec.argv]


def _signal_code(returncode: int | None) -> int | None:
    """bwrap reports a child killed by signal N as exit status 128+N; give it back as -N."""
    if returncode is not None and 128 < returncode <= 128 + 64:
        return -(returncode - 128)
    return returncode


def _first_line(data: bytes) -> str:
    for line in data.decode(errors="replace").splitlines():
        if line.strip():
            return line.strip()
    return "no message"


class BwrapSandbox:
    """Runs the command inside bubblewrap namespaces with whole-tree limits."""

    name = "bwrap"

    def __init__(self, bwrap_path: str | None = None, use_cgroups: bool = True) -> None:
        found = bwrap_path or shutil.which("bwrap")
        if found is None:
            raise SandboxError("bubblewrap (bwrap) is not installed: install the 'bubblewrap' package")
        self.bwrap = found
        self.support = detect_cgroups() if use_cgroups else CgroupSupport(None, reason="not used")
        self.description = (
            "bubblewrap sandbox (no network, read-only system, private /tmp); "
            + limits_description(self.support)
        )

    def run(self, spec: SandboxSpec) -> SandboxResult:
        for folder in (spec.scratch, spec.outbox):
            if not folder.is_dir():
                raise SandboxError(f"sandbox folder {folder} does not exist")
        scratch = str(spec.scratch.resolve())
        env = sandbox_env(
            spec,
            home=scratch,
            tmpdir=SANDBOX_TMP,
            pythonpath=PACKAGE_ROOT,
            python_bin=str(Path(sys.prefix) / "bin"),
        )
        read_fd, write_fd = os.pipe()
        try:
            argv = build_argv(self.bwrap, spec, env, write_fd)
            result = run_tree(
                argv,
                {"PATH": "/usr/bin:/bin"},
                spec.scratch,
                spec.limits,
                spec.stdin,
                self.support,
                pass_fds=(write_fd,),
            )
            os.close(write_fd)
            write_fd = -1
            status = _read_all(read_fd)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        started = b'"child-pid"' in status
        if not started and result.killed_reason is None:
            raise SandboxError(f"bwrap could not start the sandbox: {_first_line(result.stderr)}")
        tmp = f"/tmp: tmpfs of {format_gib(spec.limits.scratch_bytes)} GiB"
        return dataclasses.replace(
            result,
            returncode=_signal_code(result.returncode),
            backend=f"{self.description}; {tmp}; {scratch_note(spec)}",
        )


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def tmpfs_size_args(bwrap_path: str, size_bytes: int) -> list[str]:
    """`--size N` for the next --tmpfs, where this bwrap knows it; otherwise nothing."""
    return ["--size", str(size_bytes)] if supports_tmpfs_size(bwrap_path) else []


@functools.lru_cache(maxsize=4)
def supports_tmpfs_size(bwrap_path: str) -> bool:
    """bwrap learnt `--size` (for --tmpfs) in 0.7; older ones leave /tmp unbounded."""
    try:
        done = subprocess.run([bwrap_path, "--help"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in done.stdout + done.stderr


@functools.lru_cache(maxsize=4)
def probe_bwrap(bwrap_path: str) -> str | None:
    """None when a trial sandbox starts; otherwise the first line of why not. Cached per process."""
    argv = [bwrap_path, *namespace_args(), *system_args(), "--proc", "/proc", "--dev", "/dev"]
    argv += ["--tmpfs", SANDBOX_TMP, "--", "/usr/bin/true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False, env={})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        return _first_line(done.stderr)
    return None

