"""bench/RESULTS.md: each benchmark owns one section between HTML comment markers and rewrites it."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nEach benchmark in bench/ rewrites its own section; rerun it to refresh.\n"


def write_section(script: str, lines: list[str]) -> None:
    """Replace the section of bench/<script> in RESULTS.md with lines (appending it the first time)."""
    start, end = f"<!-- bench/{script}: start -->", f"<!-- bench/{script}: end -->"
    section = "\n".join([start, *lines, end])
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")
