"""Who a sandboxed run is on the host: never root, whatever user the grader runs as.

When the grader runs as root (as CI does, and as cgroup limits want), every run's processes become
a fresh unprivileged host user: a uid of their own, taken at random from a range no account uses,
with no supplementary groups and no capabilities. Sixty concurrent runs are sixty strangers: none
can signal, trace or read another (or the grader), and RLIMIT_NPROC counts one run's processes
only. When the grader runs as an ordinary user, its runs keep that user (it cannot switch) and
bubblewrap's user namespace drops every capability.

The order matters: the top process joins the run's cgroup and takes its rlimits while still root,
bubblewrap sets up the mounts, then util-linux's setpriv, inside the sandbox, becomes the run's
user before the command starts.

The plain backend changes no user: it isolates nothing, is for trusted code only and must be
asked for by name, and an unprivileged user often cannot even reach the grader's Python (a
pyenv under /root). Its description says which user it runs as.
"""
from __future__ import annotations

import os
import secrets
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SandboxError

# 2^24 uids from 1.9e9: far above every distribution's account ranges (systemd's dynamic users
# end at 65519, container subuid ranges usually start at 100000 and span 65536 per user).
UID_BASE = 1_900_000_000
UID_SPAN = 1 << 24
SETPRIV = "/usr/bin/setpriv"


@dataclass(frozen=True)
class RunUser:
    """The unprivileged host user one run's processes become."""

    uid: int
    gid: int

    def describe(self) -> str:
        return f"unprivileged user {self.uid}"


def run_user() -> RunUser | None:
    """A fresh unprivileged user for one run when the grader is root; None when it is not
    (the run then keeps the grader's own, already unprivileged, user)."""
    if os.geteuid() != 0:
        return None
    uid = UID_BASE + secrets.randbelow(UID_SPAN)
    return RunUser(uid, uid)


def give_to(user: RunUser | None, *folders: Path) -> None:
    """Make the run's writable folders (scratch, outbox, writable mounts) its user's own.

    Only called as root; files inside are handed over too (the submission copied in by the grader).
    Links are changed themselves, never followed.
    """
    if user is None:
        return
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                os.chown(os.path.join(root, name), user.uid, user.gid, follow_symlinks=False)
        os.chown(folder, user.uid, user.gid)
        os.chmod(folder, 0o700)


def readable_by_others(path: Path) -> bool:
    """Whether an unprivileged user can read `path` (a file) or list and enter it (a folder).

    A read-only mount is bound as it is: its own permissions still apply to the run's user."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
    return mode & need == need


def setpriv_argv(user: RunUser) -> list[str]:
    """The command prefix that drops to `user` inside the sandbox: no groups, no capabilities
    (effective, permitted, inheritable, ambient or bounding), no new privileges."""
    path = shutil.which("setpriv") or SETPRIV
    if not os.path.exists(path):
        raise SandboxError("setpriv (util-linux) is missing: the sandbox cannot drop root; install util-linux")
    # the uid change clears the parent-death signal bwrap's --die-with-parent set: set it again, so
    # a grader that is killed still takes the run with it
    return [path, f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--inh-caps=-all",
            "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs", "--pdeathsig=KILL", "--"]
