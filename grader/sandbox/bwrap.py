"""The bubblewrap backend: the command runs in fresh namespaces that see almost nothing of the host.

Inside: read-only /usr (and the /bin, /lib... links or folders), the few /etc files Python and
matplotlib need, the grader's Python installation (exactly sys.prefix and sys.base_prefix, never
their parents such as /root; an installed grader package inside it is hidden), the in-sandbox
package at /opt/grader-pkg/grader_inside, a fresh /proc and /dev, a private size-limited /tmp, and
read-write only the run's scratch and outbox folders, each at its own host path. No network (own
network namespace: loopback only), own PID namespace (the whole tree dies with its pid 1), only the
environment the caller passed in spec.env.

No privilege, whoever runs the grader (grader.sandbox.user): as root, bwrap sets up the namespaces
and mounts with only the capabilities it needs to hand over, and util-linux's setpriv turns the
command into the run's own unprivileged host user (no groups, no capabilities in any set,
no-new-privs) before it starts; no user namespace is made, so the student's uid is a real,
unprivileged host uid. As an ordinary user, bwrap's user namespace does the same and further user
namespaces are disabled inside.

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

import grader
import grader_inside
import reference
from grader.errors import SandboxError
from grader.sandbox.base import SandboxResult, SandboxSpec
from grader.sandbox.limits import CgroupSupport, detect_cgroups, format_gib
from grader.sandbox.process import limits_description, run_tree, sandbox_env, scratch_note
from grader.sandbox.seccomp import program_fd as seccomp_program_fd
from grader.sandbox.user import RunUser, give_to, readable_by_others, run_user, setpriv_argv

logger = logging.getLogger(__name__)

LIFELINE_ENV = "GRADER_LIFELINE_FD"  # read by grader_inside.prepare (an init of ours ends with the grader)
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


def namespace_args(user: RunUser | None) -> list[str]:
    """Fresh namespaces for everything but the user (as root: the run's user is a real host uid,
    set by setpriv inside) or including it (as an ordinary user, who cannot switch uid; further user
    namespaces are then disabled inside). The network namespace is always new: --share-net is never
    passed."""
    common = ["--die-with-parent", "--new-session"]
    if user is None:
        return ["--unshare-all", "--unshare-user", "--disable-userns", *common]
    ns = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    # bwrap keeps every capability for its command when run by root; keep only what setpriv needs
    # to become the run's user (setuid/setgid; setpcap to empty the bounding set), and what bwrap
    # needs to enter the working folder that already belongs to that user (dac_override). The uid
    # change clears them all, and setpriv empties the other sets.
    caps = ["--cap-drop", "ALL", *(arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_DAC_OVERRIDE")
                                   for arg in ("--cap-add", cap))]
    return [*ns, *common, *caps]


_OWN_FOLDERS = ("/usr", "/proc", "/dev", *_TOP_LEVEL)  # /tmp and /content are tmpfs: folders are made in them


def parent_dirs_args(destinations: list[str]) -> list[str]:
    """`--perms 0755 --dir` for every folder above a bind target that the sandbox's root does not
    already have (/usr, /tmp, /content ... are bound or made before)."""
    parents: set[str] = set()
    for dest in destinations:
        folder = os.path.dirname(os.path.normpath(dest))
        while folder not in ("/", "") and not any(_under(folder, own) for own in _OWN_FOLDERS):
            parents.add(folder)
            folder = os.path.dirname(folder)
    args: list[str] = []
    for folder in sorted(parents, key=lambda f: (f.count("/"), f)):
        args += ["--perms", "0755", "--dir", folder]
    return args


def hidden_package_dirs(mounted: list[str]) -> list[str]:
    """The grader-side packages that an installed grader keeps inside a mounted Python prefix
    (site-packages/grader, site-packages/reference): hidden from the run by an empty mount, so only
    grader_inside is there. An editable install or a checkout keeps them outside every mount."""
    hidden = []
    for module in (grader, reference):
        folder = str(Path(module.__file__).resolve().parent)  # type: ignore[arg-type]
        if any(_under(folder, os.path.realpath(prefix)) for prefix in mounted):
            hidden.append(folder)
    return hidden


def build_argv(bwrap: str, spec: SandboxSpec, env: dict[str, str], status_fd: int | None,
               user: RunUser | None = None, seccomp_fd: int | None = None) -> list[str]:
    args = [bwrap, *namespace_args(user), *system_args()]
    if spec.init:
        args.append("--as-pid-1")
    args += ["--proc", "/proc", "--dev", "/dev"]
    # the private /tmp first: a Python environment or checkout that lives under /tmp is bound
    # on top of it afterwards instead of being hidden by it. /dev/shm (POSIX semaphores, torch
    # DataLoader workers) is a bounded tmpfs of its own; the rest of /dev is made read-only below.
    # /content: Colab's working folder, where notebooks save models and unzip data; writable and
    # bounded like /tmp, with read-only data mounts (/content/afhq, Drive) bound on top of it.
    for folder in (SANDBOX_TMP, "/dev/shm", COLAB_CONTENT):
        args += [*tmpfs_size_args(bwrap, spec.limits.scratch_bytes), "--perms", "1777", "--tmpfs", folder]
    prefixes = python_dirs()
    scratch = str(spec.scratch.resolve())
    outbox = str(spec.outbox.resolve())
    binds: list[tuple[str, str, str]] = [("--ro-bind", os.path.realpath(path), path) for path in prefixes]
    binds.append(("--ro-bind", str(Path(grader_inside.__file__).resolve().parent), f"{PACKAGE_ROOT}/grader_inside"))
    binds += [("--bind", scratch, scratch), ("--bind", outbox, outbox)]
    for mount in spec.mounts:
        if not mount.source.exists():
            raise SandboxError(f"mount source {mount.source} does not exist")
        binds.append(("--bind" if mount.writable else "--ro-bind", str(mount.source.resolve()), mount.inside(scratch)))
    # every folder on the way to a bind target exists inside as an empty 0755 folder of the
    # sandbox's own root (bwrap would make them 0700: the run's user could not reach its Python)
    args += parent_dirs_args([dest for _, _, dest in binds if not any(
        _under(dest, own) and dest != own for own in (scratch, outbox))])
    for flag, source, dest in binds:
        args += [flag, source, dest]
    for folder in hidden_package_dirs(prefixes):
        args += ["--perms", "0555", "--tmpfs", folder, "--remount-ro", folder]
    if spec.device == "cuda":
        args += nvidia_args()
    # The sandbox's root and /dev are bwrap's own unbounded tmpfs: made read-only so only
    # scratch, outbox, /tmp, /dev/shm (and writable mounts) take writes. Device nodes still work.
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", scratch, "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if status_fd is not None:
        args += ["--json-status-fd", str(status_fd)]
    if seccomp_fd is not None:
        args += ["--add-seccomp-fd", str(seccomp_fd)]
    drop = setpriv_argv(user) if user is not None else []
    return [*args, "--", *drop, *spec.argv]


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
    package_root = PACKAGE_ROOT

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
        user = run_user()
        _check_mounts(spec, user)
        _make_mount_points(spec)
        give_to(user, spec.scratch, spec.outbox, *(m.source for m in spec.mounts if m.writable))
        scratch = str(spec.scratch.resolve())
        env = sandbox_env(
            spec,
            home=scratch,
            tmpdir=SANDBOX_TMP,
            pythonpath=PACKAGE_ROOT,
            python_bin=str(Path(sys.prefix) / "bin"),
        )
        read_fd, write_fd = os.pipe()
        filter_fd = seccomp_program_fd() if supports_option(self.bwrap, "--add-seccomp-fd") else None
        # An init of ours (the harness, the app client) runs as the run's user, and bwrap (root
        # without capabilities) cannot signal it when the grader dies: it watches this pipe instead,
        # whose other end only the grader holds, and ends the run when the grader is gone.
        life_read, life_write = os.pipe() if spec.init else (-1, -1)
        if spec.init:
            env = {**env, LIFELINE_ENV: str(life_read)}
        extra_fds = tuple(fd for fd in (filter_fd, life_read if spec.init else None) if fd is not None)
        try:
            argv = build_argv(self.bwrap, spec, env, write_fd, user, filter_fd)
            result = run_tree(
                argv,
                {"PATH": "/usr/bin:/bin"},
                spec.scratch,
                spec.limits,
                spec.stdin,
                self.support,
                pass_fds=(write_fd, *extra_fds),
                user=user,
                on_output=spec.on_output,
            )
            os.close(write_fd)
            write_fd = -1
            status = _read_all(read_fd)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
            for fd in (*extra_fds, life_write):
                if fd >= 0:
                    os.close(fd)
        started = b'"child-pid"' in status
        if not started and result.killed_reason is None:
            raise SandboxError(f"bwrap could not start the sandbox: {_first_line(result.stderr)}")
        tmp = f"/tmp: tmpfs of {format_gib(spec.limits.scratch_bytes)} GiB"
        who = user.describe() if user is not None else "the grader's user in a user namespace"
        calls = "no new user namespaces (seccomp)" if filter_fd is not None else "no seccomp filter on this machine"
        return dataclasses.replace(
            result,
            returncode=_signal_code(result.returncode),
            backend=f"{self.description}; runs as {who}, no capabilities, {calls}; {tmp}; {scratch_note(spec)}",
        )


def _make_mount_points(spec: SandboxSpec) -> None:
    """Mounts inside the run's own folders (`./afhq`) get their mount points made here, on the
    host, before the folders are handed to the run's user: bwrap would make the missing folders
    as root with mode 0700, and the student's code could neither enter nor write beside them."""
    own = [str(spec.scratch.resolve()), str(spec.outbox.resolve())]
    for mount in spec.mounts:
        target = mount.inside(own[0])
        if not any(_under(target, folder) for folder in own):
            continue
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        if mount.source.is_dir():
            Path(target).mkdir(exist_ok=True)
        elif not os.path.lexists(target):
            Path(target).touch()


def _check_mounts(spec: SandboxSpec, user: RunUser | None) -> None:
    """A read-only mount keeps its own permissions inside: the run's unprivileged user must be
    able to read it, or the student's code would fail on the instructor's data for no fault of
    theirs. Said plainly, with the fix, before anything runs."""
    if user is None:
        return
    for mount in spec.mounts:
        if not mount.writable and not readable_by_others(mount.source):
            raise SandboxError(
                f"{mount.source} is not readable by other users, and the sandbox runs student code as an "
                f"unprivileged user: make it readable (chmod -R o+rX '{mount.source}')")


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def tmpfs_size_args(bwrap_path: str, size_bytes: int) -> list[str]:
    """`--size N` for the next --tmpfs, where this bwrap knows it (0.7 and later); otherwise
    nothing, and /tmp is bounded only by the run's memory cgroup."""
    return ["--size", str(size_bytes)] if supports_option(bwrap_path, "--size") else []


def supports_option(bwrap_path: str, option: str) -> bool:
    """Whether this bwrap lists `option` in its --help."""
    return option in _help_text(bwrap_path)


@functools.lru_cache(maxsize=4)
def _help_text(bwrap_path: str) -> str:
    try:
        done = subprocess.run([bwrap_path, "--help"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


@functools.lru_cache(maxsize=4)
def probe_bwrap(bwrap_path: str) -> str | None:
    """None when a trial sandbox starts; otherwise the first line of why not. Cached per process."""
    user = run_user()
    argv = [bwrap_path, *namespace_args(user), *system_args(), "--proc", "/proc", "--dev", "/dev"]
    try:
        argv += ["--tmpfs", SANDBOX_TMP, "--", *(setpriv_argv(user) if user is not None else []), "/usr/bin/true"]
    except SandboxError as exc:
        return str(exc)
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False, env={})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        return _first_line(done.stderr)
    return None

