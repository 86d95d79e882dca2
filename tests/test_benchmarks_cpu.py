"""The benchmarks' CPU accounting (benchmarks/_cpu.py), on this machine's real /proc."""

import os
import signal
import subprocess
import sys
import time

import pytest

from benchmarks._cpu import GROUPS, CpuMeter, CpuSample, cpu_per_call

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"


def sample(at: float, busy: float, steal: float = 0.0, **groups: float) -> CpuSample:
    return CpuSample(at=at, busy=busy, steal=steal, by_group=dict.fromkeys(GROUPS, 0.0) | groups)


def test_cpu_per_call_divides_each_group_and_the_machine_by_the_calls(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    before = sample(10.0, 100.0, 7.0, postgres=5.0, web=2.0, loadgen=1.0, redis=0.5)
    after = sample(12.0, 103.0, 7.4, postgres=6.5, web=2.8, loadgen=1.2, redis=0.55)

    cpu = cpu_per_call(before, after, calls=1000)

    assert cpu["machine"] == pytest.approx(3.0)  # 3 s of busy CPU over 1,000 calls
    assert cpu["postgres"] == pytest.approx(1.5) and cpu["web"] == pytest.approx(0.8)
    assert cpu["loadgen"] == pytest.approx(0.2) and cpu["redis"] == pytest.approx(0.05)
    assert cpu["machine_busy"] == pytest.approx(0.75)  # 3 s busy of 2 s x 2 cores
    assert cpu["machine_stolen"] == pytest.approx(0.1)  # 0.4 s stolen of the same 4


def test_nothing_measured_gives_no_figures():
    assert cpu_per_call(None, None, calls=10) is None
    assert cpu_per_call(sample(1.0, 1.0), sample(2.0, 2.0), calls=0) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_the_meter_counts_a_process_tree_as_web_and_a_waited_for_child_as_loadgen():
    # A parent whose child burns 0.3 s of CPU and stays: the tree stands in for the web server's.
    child = BURN.format(seconds=0.3) + "time.sleep(30)\n"
    tree = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys\n"
                             f"subprocess.run([sys.executable, '-c', {child!r}])\n"], start_new_session=True)
    try:
        meter = CpuMeter(tree.pid)
        before = meter.sample()
        subprocess.run([sys.executable, "-c", BURN.format(seconds=0.4)], check=True)  # the load generator
        deadline = time.monotonic() + 20
        while (after := meter.sample()).by_group["web"] - before.by_group["web"] < 0.25:
            assert time.monotonic() < deadline, "the tree's CPU time was never counted"
            time.sleep(0.1)
    finally:
        os.killpg(tree.pid, signal.SIGKILL)
        tree.wait()

    assert after.by_group["loadgen"] - before.by_group["loadgen"] >= 0.35
    assert after.busy - before.busy >= 0.35
