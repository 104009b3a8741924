"""Medians, percentiles and the plain-text tables the bench prints."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `fraction` of them at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], notes: Sequence[str] = ()) -> str:
    """A Markdown table (readable as plain text too), with a title line and notes under it."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(name)), *(len(row[i]) for row in cells)) for i, name in enumerate(header)]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + " |"

    lines = [f"### {title}", "", line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|"]
    lines += [line(row) for row in cells]
    if notes:
        lines.append("")
        lines += [f"{note}" for note in notes]
    return "\n".join(lines) + "\n"


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def us(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f} µs"


def ratio(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}×"


def dollars(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"
