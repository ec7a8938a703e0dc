"""The CPU time the student's code used, as the harness measures it inside the sandbox.

Budgets that can change a grade count work, not wall time: a cell that needs 20 s of CPU gets
them whether the machine is idle or busy (wall time only grows under load). The harness's
descendants are the kernel and everything it started; as the sandbox's init the harness is also
the parent of every orphan. Their CPU is read from /proc (user + system time, with that of their
children already reaped), plus what our own reaped children used. The harness's own CPU (nbclient,
the records) is never counted against the student.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int | str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read().decode(errors="replace")
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces


def student_cpu_s(me: int | None = None) -> float:
    """CPU seconds of every process below the harness, and of the children it reaped."""
    me = os.getpid() if me is None else me
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(entry)
        if fields is None or len(fields) < 15:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        # utime, stime, cutime, cstime: fields 14-17 of stat, here 11-14 after the name
        times[pid] = sum(int(v) for v in fields[11:15])
    total = times.get(me, 0) - _own_ticks(me)  # our reaped children's time only, not ours
    below = _descendants(me, parents)
    total += sum(times[pid] for pid in below)
    return total / _TICK


def _own_ticks(me: int) -> int:
    fields = _stat_fields(me)
    return int(fields[11]) + int(fields[12]) if fields and len(fields) >= 13 else 0


def _descendants(root: int, parents: dict[int, int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


class CellWatch:
    """Watches one cell at a time from a thread: stops it when it has used its CPU budget, or when
    it has used no CPU for `idle_s` of wall time (sleeping, waiting for input: code that would
    never finish). Stopping is `interrupt()` (SIGINT to the kernel), then `kill()` if the cell
    does not end within `grace_s`.

    One thread for the whole run, started before any student code: a fork bomb that fills the
    run's process limit cannot keep the harness from watching its next cell.
    """

    POLL_S = 0.1

    def __init__(self, interrupt: Callable[[], None], kill: Callable[[], None], clock: Callable[[], float] = student_cpu_s,
                 grace_s: float = 5.0) -> None:
        self.interrupt, self.kill, self.clock, self.grace_s = interrupt, kill, clock, grace_s
        self.reason: str | None = None  # "cpu" | "idle" once the watch stopped the cell
        self.used_s = 0.0
        self._lock = threading.Lock()
        self._seq = 0  # which watch is current: each start() takes the next number
        self._active = False  # whether that watch's cell is still running
        self._limits: tuple[float, float, float] = (0.0, 0.0, 0.0)  # start CPU, budget, idle
        threading.Thread(target=self._loop, name="cell-watch", daemon=True).start()

    def start(self, budget_s: float, idle_s: float) -> float:
        """Begin watching a cell; returns the CPU clock at its start."""
        start = self.clock()
        with self._lock:
            self.reason, self.used_s = None, 0.0
            self._limits = (start, budget_s, idle_s)
            self._seq += 1
            self._active = True
        return start

    def stop(self) -> float:
        """End the watch of the current cell; the CPU seconds it used."""
        with self._lock:
            active, (start, _, _) = self._active, self._limits
            self._active = False
        if active:
            self.used_s = max(self.used_s, self.clock() - start)
        return self.used_s

    def _loop(self) -> None:
        watched, last_cpu, last_progress = 0, 0.0, 0.0
        while True:
            time.sleep(self.POLL_S)
            with self._lock:
                cell, active, (start, budget_s, idle_s) = self._seq, self._active, self._limits
            if not active:
                continue
            now_cpu, now = self.clock(), time.monotonic()
            if cell != watched:
                watched, last_cpu, last_progress = cell, start, now
            used = max(0.0, now_cpu - start)
            if now_cpu - last_cpu > 0.02:
                last_cpu, last_progress = now_cpu, now
            reason = "cpu" if used >= budget_s else ("idle" if now - last_progress >= idle_s else None)
            if reason is None:
                continue
            with self._lock:
                if self._seq != cell or not self._active:
                    continue
                self.reason, self.used_s = reason, used
            self._end(cell)

    def _end(self, cell: int) -> None:
        try:
            self.interrupt()
        except Exception:  # the kernel may be gone already
            pass
        deadline = time.monotonic() + self.grace_s
        while time.monotonic() < deadline:
            time.sleep(self.POLL_S)
            with self._lock:
                if self._seq != cell or not self._active:
                    return  # the cell ended
        try:
            self.kill()  # code that ignores the interrupt: the harness restarts the kernel
        except Exception:
            pass


def kernel_signals(km: Any) -> tuple[Callable[[], None], Callable[[], None]]:
    """(interrupt, kill) for the kernel `km` manages, safe to call from another thread."""
    import signal

    def process() -> Any:
        return getattr(getattr(km, "provisioner", None), "process", None)

    def send(sig: int) -> None:
        proc = process()
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(os.getpgid(proc.pid), sig)
            except OSError:
                proc.send_signal(sig)

    return (lambda: send(signal.SIGINT)), (lambda: send(signal.SIGKILL))
