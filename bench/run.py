"""`make bench`: run the benchmarks and write bench/REPORT.md.

Default sizes finish in about a minute each; `--full` uses the report sizes (10M rows,
10k-100k metrics). None of this runs in the test suite. Loopback only, bounded in time.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import subprocess
import time
from importlib.metadata import version
from pathlib import Path

import typer

BENCHES = ["compile", "newvalue", "overhead", "throughput", "registry", "memory", "refusal", "reach"]
REPORT = Path(__file__).resolve().parent / "REPORT.md"
SECTIONS = Path(__file__).resolve().parent / "sections"  # the latest section of each bench, kept in git
app = typer.Typer(add_completion=False)


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0")
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() or "?"
    packages = ", ".join(f"{p} {version(p)}" for p in ("fastapi", "uvicorn", "sqlalchemy", "sqlglot", "duckdb", "asyncpg", "pydantic"))
    return [
        f"- when: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cpu}, {os.cpu_count()} cores, {int(mem) / 1024 / 1024:.0f} GiB; {platform.platform()}",
        f"- Python {platform.python_version()}; {packages}; {pg}",
    ]


@app.command()
def main(
    full: bool = typer.Option(False, "--full", help="report sizes (slow)"),
    only: str = typer.Option(",".join(BENCHES), help="comma-separated subset"),
    write: bool = typer.Option(True, help="write bench/REPORT.md"),
) -> None:
    chosen = [b for b in only.split(",") if b]
    SECTIONS.mkdir(exist_ok=True)
    for name in chosen:
        module = importlib.import_module(f"bench.{name}_bench")
        started = time.perf_counter()
        typer.echo(f"running {name} …")
        section = module.report(module.run(full))
        section += [f"_({name}{' --full' if full else ''}: {time.perf_counter() - started:.0f} s, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC)_", ""]
        typer.echo("\n".join(section))
        if write:
            (SECTIONS / f"{name}.md").write_text("\n".join(section))
    if write:
        write_report()
        typer.echo(f"wrote {REPORT}")


def write_report() -> None:
    """REPORT.md: the machine, then the latest section of every benchmark."""
    lines = ["# Yardstick benchmarks", "", "`make bench` (small sizes, about a minute each) or `python -m bench.run --full` (report sizes); "
             "each figure is a median with min–max; each headline is a ratio against a baseline measured in the same run.", "",
             *machine(), ""]
    lines += [(SECTIONS / f"{name}.md").read_text() for name in BENCHES if (SECTIONS / f"{name}.md").exists()]
    REPORT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    app()
