"""Where a benchmark phase's CPU time went, by process group, from Linux's /proc.

The games benchmark runs PostgreSQL, Redis, the server it measures and the load generator on the same
cores, so its latency depends on how busy they keep the machine together. `CpuMeter` samples, before
and after a phase: the machine's busy time (all cores, /proc/stat), the PostgreSQL processes, the Redis
server, the measured server's process tree (group "web": the wallet server in the games benchmark) and
the load generator (a child this process has waited for: its rusage). Where /proc is missing (not
Linux) it measures nothing and the figures are left out.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
GROUPS = ("postgres", "web", "loadgen", "redis")


@dataclass(frozen=True)
class CpuSample:
    at: float  # time.monotonic()
    busy: float  # seconds of CPU time the whole machine spent busy, over all cores
    steal: float  # seconds the hypervisor ran another guest while this machine had work (over all cores)
    by_group: dict[str, float]


def _seconds(ticks: int) -> float:
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_times() -> tuple[float, float]:
    """(busy, steal) seconds of all cores, from the first line of /proc/stat. Busy is user, nice, system,
    irq and softirq: not idle or I/O wait, nor steal, the time a virtual machine's hypervisor gave to
    another guest although this one had work."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in (PROC / "stat").read_text().splitlines()[0].split()[1:9])
    return _seconds(user + nice + system + irq + softirq), _seconds(steal)


def _processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, command name, user + system seconds) of every process still running."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended while we looked
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        found.append((int(entry.name), int(fields[1]), name, _seconds(int(fields[11]) + int(fields[12]))))
    return found


def _tree(root: int, processes: list[tuple[int, int, str, float]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, parent, _, _ in processes:
        children.setdefault(parent, []).append(pid)
    tree, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            tree.add(child)
            todo.append(child)
    return tree


class CpuMeter:
    """CPU seconds by group; `web_pid` is the root process of the server measured (group "web")."""

    def __init__(self, web_pid: int):
        self.web_pid = web_pid
        self.available = (PROC / "stat").exists()

    def sample(self) -> CpuSample | None:
        if not self.available:
            return None
        processes = _processes()
        web = _tree(self.web_pid, processes)
        by_group = dict.fromkeys(GROUPS, 0.0)
        for pid, _, name, seconds in processes:
            if pid in web:
                by_group["web"] += seconds
            elif name == "postgres":
                by_group["postgres"] += seconds
            elif name.startswith("redis-server"):
                by_group["redis"] += seconds
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        by_group["loadgen"] = children.ru_utime + children.ru_stime
        busy, steal = _machine_times()
        return CpuSample(at=time.monotonic(), busy=busy, steal=steal, by_group=by_group)


def cpu_per_call(before: CpuSample | None, after: CpuSample | None, *, calls: int) -> dict | None:
    """Milliseconds of CPU per call, by group and for the whole machine, and the shares of the machine's
    cores that were busy and stolen (by the hypervisor, for another guest) between the samples; None
    when nothing was measured.

    The phase includes the load generator's start (its imports) and end. Processes that ended during
    it are not in `after` (a PostgreSQL backend closing): their group's figure can only come out low,
    never high. "loadgen" counts the children this process waited for in between: the load generator."""
    if before is None or after is None or calls <= 0 or after.at <= before.at:
        return None
    per_call = {group: max(0.0, after.by_group[group] - before.by_group[group]) * 1000 / calls for group in GROUPS}
    busy, capacity = after.busy - before.busy, (after.at - before.at) * (os.cpu_count() or 1)
    return {"machine": busy * 1000 / calls, **per_call, "machine_busy": busy / capacity,
            "machine_stolen": (after.steal - before.steal) / capacity}
