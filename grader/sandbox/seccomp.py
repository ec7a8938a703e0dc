"""A seccomp filter for sandboxed runs: no new user namespaces, none of the kernel's rarest doors.

An unprivileged user on most hosts may still create a user namespace, and inside it hold every
capability over that namespace: a large part of the kernel (mounting file systems, netfilter,
namespaced sysctls) then becomes reachable, and many local privilege escalations start there.
Student code never needs it, nor the other calls refused here (BPF programs, userfaultfd,
perf events, io_uring, kernel keyrings, module and kexec loading, the mount API, joining other
namespaces). They fail with EPERM; clone3 fails with ENOSYS, so the C library falls back to
clone, whose flags a filter can read (clone3 passes them in memory, where it cannot).

The program is classic BPF, built here for x86-64 and AArch64 (other architectures get no filter,
and the sandbox's description says so) and handed to bubblewrap (--add-seccomp-fd).
"""
from __future__ import annotations

import os
import platform
import struct

CLONE_NEWUSER = 0x10000000
EPERM, ENOSYS = 1, 38
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_X32_BIT = 0x40000000

# BPF opcodes: ld word absolute, jump equal / set / greater-or-equal (constant), return constant
_LD_W_ABS = 0x20
_JEQ_K, _JSET_K, _JGE_K = 0x15, 0x45, 0x35
_RET_K = 0x06

# offsets in struct seccomp_data: nr (0), arch (4), instruction pointer (8), args (16: 6 x u64)
_NR, _ARCH, _ARG0_LOW = 0, 4, 16

_REFUSED = ("keyctl", "add_key", "request_key", "bpf", "userfaultfd", "perf_event_open", "io_uring_setup",
            "kexec_load", "kexec_file_load", "open_by_handle_at", "init_module", "finit_module", "delete_module",
            "setns", "mount", "umount2", "pivot_root", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount")

_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {
        "clone": 56, "unshare": 272, "clone3": 435, "keyctl": 250, "add_key": 248, "request_key": 249,
        "bpf": 321, "userfaultfd": 323, "perf_event_open": 298, "io_uring_setup": 425, "kexec_load": 246,
        "kexec_file_load": 320, "open_by_handle_at": 304, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "open_tree": 428,
        "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432}),
    "aarch64": (0xC00000B7, {
        "clone": 220, "unshare": 97, "clone3": 435, "keyctl": 219, "add_key": 217, "request_key": 218,
        "bpf": 280, "userfaultfd": 282, "perf_event_open": 241, "io_uring_setup": 425, "kexec_load": 104,
        "kexec_file_load": 294, "open_by_handle_at": 265, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "open_tree": 428,
        "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432}),
}


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes | None:
    """The filter for `machine` (default: this one) as bytes of struct sock_filter; None where
    the architecture is not known here."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, nr = arch
    deny = _RET_ERRNO | EPERM
    # The tail, from the end backwards, so jumps are counted forwards:
    #   [refused calls ...]  ret EPERM for each match
    #   ret ALLOW
    #   flags: ld arg0 (low word); jset CLONE_NEWUSER -> EPERM; ret ALLOW
    refused = [nr[name] for name in _REFUSED]
    body: list[bytes] = []
    # instructions after the refused-call checks: ret ALLOW, flags check (3), ret EPERM, ret ENOSYS
    # layout (indices relative to the start of `checks`):
    #   0: jeq clone3 -> ENOSYS
    #   1: jeq unshare -> FLAGS
    #   2: jeq clone -> FLAGS
    #   3..3+n-1: jeq refused[i] -> EPERM
    #   A = 3+n: ret ALLOW
    #   F = A+1: ld arg0; F+1: jset NEWUSER -> EPERM (jt) else ALLOW_2 (jf);
    #   F+2: ret ALLOW
    #   E = F+3: ret EPERM
    #   S = E+1: ret ENOSYS
    n = len(refused)
    a = 3 + n
    f = a + 1
    e = f + 3
    s = e + 1
    checks = [
        _insn(_JEQ_K, nr["clone3"], jt=s - 0 - 1),
        _insn(_JEQ_K, nr["unshare"], jt=f - 1 - 1),
        _insn(_JEQ_K, nr["clone"], jt=f - 2 - 1),
    ]
    checks += [_insn(_JEQ_K, call, jt=e - (3 + i) - 1) for i, call in enumerate(refused)]
    checks += [
        _insn(_RET_K, _RET_ALLOW),                       # a
        _insn(_LD_W_ABS, _ARG0_LOW),                     # f
        _insn(_JSET_K, CLONE_NEWUSER, jt=e - (f + 1) - 1, jf=0),
        _insn(_RET_K, _RET_ALLOW),                       # f + 2
        _insn(_RET_K, deny),                             # e
        _insn(_RET_K, _RET_ERRNO | ENOSYS),              # s
    ]
    head = [
        _insn(_LD_W_ABS, _ARCH),
        _insn(_JEQ_K, audit_arch, jt=1, jf=0),
        _insn(_RET_K, deny),  # a foreign ABI (32-bit calls on a 64-bit kernel): refused outright
        _insn(_LD_W_ABS, _NR),
    ]
    if audit_arch == _ARCHES["x86_64"][0]:  # the x32 ABI shares x86-64's arch value: refuse it
        head += [_insn(_JGE_K, _X32_BIT, jt=0, jf=1), _insn(_RET_K, deny)]
    body = head + checks
    return b"".join(body)


def program_fd(machine: str | None = None) -> int | None:
    """A file descriptor holding the program, positioned at its start (for bwrap), or None."""
    code = program(machine)
    if code is None:
        return None
    fd = os.memfd_create("grader-seccomp", 0) if hasattr(os, "memfd_create") else None
    if fd is None:
        return None
    os.write(fd, code)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
