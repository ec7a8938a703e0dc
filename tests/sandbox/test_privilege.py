"""What the student's process can do inside the bubblewrap sandbox, asked from inside it.

CI runs these as root, the case that matters most: the sandbox must hold no privilege whoever
starts it (no capabilities, no-new-privs, a non-root uid, /proc/sys and every mount read-only, no
new user namespaces), and the grader's package and shared caches must not be writable.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from grader.sandbox import BwrapSandbox, Mount
from grader.sandbox.bwrap import PACKAGE_ROOT

pytestmark = pytest.mark.sandbox

PROBE = r"""
import ctypes, json, os, subprocess, sys
pkg, cache = sys.argv[1], sys.argv[2]
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
out = {k: status[k].strip() for k in ("Uid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")}

def errno_of(action):
    try:
        action()
    except OSError as exc:
        return exc.errno
    return 0

out["procsys"] = errno_of(lambda: open("/proc/sys/kernel/core_pattern", "w").write("|/tmp/evil"))
libc = ctypes.CDLL(None, use_errno=True)
MS_REMOUNT, MS_BIND = 32, 4096
for target in ("/", "/usr", pkg, cache):
    rc = libc.mount(None, target.encode(), None, MS_REMOUNT | MS_BIND, None)
    out["remount " + target] = ctypes.get_errno() if rc else 0
out["mount(8)"] = subprocess.run(["mount", "-o", "remount,bind,rw", pkg], capture_output=True).returncode
for folder in (pkg, cache, "/usr/lib", sys.prefix, "/etc"):
    out["write " + folder] = errno_of(lambda: open(os.path.join(folder, "planted.py"), "w").write("x"))
out["userns"] = subprocess.run(["unshare", "-U", "true"], capture_output=True).returncode
print(json.dumps(out))
"""


@pytest.fixture
def inside(bwrap_box: BwrapSandbox, make_spec, tmp_path: Path) -> dict[str, object]:
    cache = tmp_path / "shared-cache"
    cache.mkdir()
    (cache / "fontlist.json").write_text("{}")
    cache.chmod(0o755)
    spec = make_spec(PROBE, f"{PACKAGE_ROOT}/grader_inside", str(cache), wall_time_s=30)
    spec = dataclasses.replace(spec, mounts=(Mount(cache, str(cache)),))
    result = bwrap_box.run(spec)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def test_no_capability_no_new_privileges_no_root(inside: dict[str, object]) -> None:
    assert inside["CapEff"] == inside["CapPrm"] == inside["CapInh"] == inside["CapAmb"] == "0000000000000000"
    assert inside["NoNewPrivs"] == "1"
    if os.geteuid() == 0:  # the grader as root: the run is a fresh unprivileged host user
        uid = int(str(inside["Uid"]).split()[0])
        assert uid != 0 and uid >= 1_900_000_000
        assert inside["CapBnd"] == "0000000000000000"


def test_proc_sys_and_every_mount_stay_read_only(inside: dict[str, object]) -> None:
    assert inside["procsys"] in (13, 30)  # EACCES or EROFS: the host's core_pattern is out of reach
    for key, value in inside.items():
        if key.startswith("remount "):
            assert value == 1, f"{key}: {value}"  # EPERM
    assert inside["mount(8)"] != 0


def test_grader_package_caches_and_system_are_not_writable(inside: dict[str, object]) -> None:
    writes = {k: v for k, v in inside.items() if k.startswith("write ")}
    assert len(writes) == 5
    assert all(v in (13, 30) for v in writes.values()), writes


def test_no_new_user_namespaces(inside: dict[str, object]) -> None:
    assert inside["userns"] != 0
    assert inside["Seccomp"] == "2"  # a seccomp filter is in force


def test_a_mount_the_run_cannot_read_is_refused_with_the_fix(bwrap_box: BwrapSandbox, make_spec,
                                                              tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("as an ordinary user the run keeps the grader's own user, who can read it")
    data = tmp_path / "closed-data"
    data.mkdir(mode=0o700)
    spec = dataclasses.replace(make_spec("print(1)"), mounts=(Mount(data, "/data"),))
    with pytest.raises(Exception, match=r"chmod -R o\+rX"):
        bwrap_box.run(spec)
