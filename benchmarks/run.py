"""Run the benchmarks: `python -m benchmarks.run [module ...]` (what `make bench` calls).

Every `benchmarks/<module>.py` other than run, common and __init__ that defines `run()` is a benchmark;
`run()` returns a list of `(name, value, unit)`. Each figure is printed on stdout as
`bench: <name> = <value> <unit>`. A module that fails prints `bench: <module> = error <message>` on
stderr, the others still run, and the exit status is 1 when any failed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import bench_setup, bench_teardown, format_figure, log

NOT_BENCHMARKS = {"run", "common", "__init__"}
PACKAGE_DIR = Path(__file__).resolve().parent


def module_names() -> list[str]:
    """Modules of the package that may hold a benchmark, in alphabetical order."""
    return sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE_DIR)])
                  if info.name not in NOT_BENCHMARKS and not info.name.startswith("_"))


def run_module(name: str, run: Callable[[], list], out=sys.stdout, err=sys.stderr) -> bool:
    """Run one benchmark and print its figures; on failure print the error line and return False."""
    started = time.monotonic()
    try:
        figures = run()
        lines = [format_figure(*figure) for figure in figures]
    except Exception as error:  # noqa: BLE001 - one failing benchmark must not stop the others
        traceback.print_exc(file=err)
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"bench: {name} = error {message}", file=err, flush=True)
        return False
    for line in lines:
        print(line, file=out, flush=True)
    print(f"# {name}: {len(lines)} figures in {time.monotonic() - started:.1f} s", file=err, flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="benchmark modules to run (default: all)")
    args = parser.parse_args(argv)
    available = module_names()
    unknown = [name for name in args.modules if name not in available]
    if unknown:
        parser.error(f"unknown benchmark module(s): {', '.join(unknown)}; available: {', '.join(available)}")
    try:
        bench_setup()
    except Exception as error:  # noqa: BLE001 - without a bench database no benchmark can run
        traceback.print_exc()
        print(f"bench: setup = error {' '.join(str(error).split())}", file=sys.stderr, flush=True)
        return 1
    try:
        failed = sum(not _module_run(name, explicitly=bool(args.modules)) for name in args.modules or available)
    finally:
        bench_teardown()
    return 1 if failed else 0


def _module_run(name: str, *, explicitly: bool) -> bool:
    """Import and run one benchmark module; False when it failed (a module without run() is skipped,
    unless it was asked for by name)."""
    log(f"# {name}: running")
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except Exception as error:  # noqa: BLE001
        traceback.print_exc()
        print(f"bench: {name} = error cannot import: {error}", file=sys.stderr, flush=True)
        return False
    run = getattr(module, "run", None)
    if not callable(run):
        if explicitly:
            print(f"bench: {name} = error defines no run()", file=sys.stderr, flush=True)
            return False
        return True
    return run_module(name, run)


if __name__ == "__main__":
    sys.exit(main())
