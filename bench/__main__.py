"""Benchmark runner: ``python -m bench [names] [-- args for every benchmark]``.

Discovers every module ``bench/<name>.py`` defining ``run(argv: list[str]) -> dict`` and runs them
all (or only the named ones), printing each one's figures. Exit status 1 when a benchmark fails to
run (an exception), never because of a timing.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
import traceback
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__main__", "__init__", "common"}


def discover() -> dict[str, object]:
    """``{name: run}`` for every module of the package that defines a callable ``run``."""
    found = {}
    for info in sorted(pkgutil.iter_modules([str(PACKAGE_DIR)]), key=lambda i: i.name):
        if info.name in NOT_BENCHMARKS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        run = getattr(module, "run", None)
        if callable(run):
            found[info.name] = run
    return found


def format_figures(name: str, figures: dict) -> str:
    lines = [f"== {name}"]
    width = max((len(str(k)) for k in figures), default=0)
    for key, value in figures.items():
        if isinstance(value, float):
            value = f"{value:,.2f}"
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        lines.append(f"  {key:<{width}}  {value}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if "--" in argv:
        split = argv.index("--")
        names, passed = argv[:split], argv[split + 1:]
    else:
        names, passed = argv, []
    if any(n in ("-h", "--help") for n in names):
        print(__doc__.strip())
        print("benchmarks:", ", ".join(discover()) or "(none)")
        return 0
    available = discover()
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    selected = names or list(available)
    failed = []
    results = {}
    for name in selected:
        started = time.monotonic()
        try:
            figures = dict(available[name](list(passed)))
        except Exception:  # report and go on with the next benchmark
            traceback.print_exc()
            failed.append(name)
            continue
        figures.setdefault("wall_seconds", round(time.monotonic() - started, 1))
        results[name] = figures
        print(format_figures(name, figures), flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
