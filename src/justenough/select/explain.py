"""The prose of a choice: scores as people read them, and the sentences that explain a choice.

Every string here is part of what the CLI prints and the report shows: keep them word for word.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from justenough.select.order import num

__all__ = ["format_difference", "describe_paired", "Fmt", "SIMPLEST", "fewer_parameters", "latency_note", "limits_text"]

SIMPLEST = "it is the simplest config to choose from"


class Fmt:
    """Scores as people read them: percent with one decimal, or R^2-like with three."""

    def __init__(self, metric_name: str, percent: bool) -> None:
        self.metric, self.percent = metric_name, percent

    def score(self, x: float) -> str:
        return f"{100 * x:.1f}%" if self.percent else f"{x:.3f}"

    def spread(self, x: float) -> str:
        if not math.isfinite(x):
            return "?"
        return f"{100 * x:.1f}" if self.percent else f"{x:.3f}"

    def entry(self, row: pd.Series) -> str:
        """``2x128 (accuracy 97.4% +/- 0.5 SE: rows 0.4, restarts 0.2; 12,345 parameters)``: the SE
        of the noise model and its parts when the row has them (``select.with_noise``), else the
        restarts' SE (``2x128 (accuracy 97.4% +/- 0.2 SE of 5 restarts, 12,345 parameters)``); judged by
        ensembles, ``2x128 (ensemble accuracy 98.1% +/- 0.5 SE: ...)``."""
        label = str(row.get("label", row["key"]))
        params = num(row, "params")
        size = f"{int(params):,} parameters" if math.isfinite(params) else ""
        mean, se = self.score(num(row, "val_mean")), self.spread(num(row, "val_se"))
        rows, restarts = num(row, "val_se_rows"), num(row, "val_se_restarts")
        # Judged by ensembles (select/ensemble_noise.py): the score is the ensemble's.
        metric = f"ensemble {self.metric}" if math.isfinite(num(row, "val_mean_restarts")) else self.metric
        if math.isfinite(rows):
            parts = f"rows {self.spread(rows)}, restarts {self.spread(restarts)}"
            return f"{label} ({metric} {mean} +/- {se} SE: {parts}{'; ' + size if size else ''})"
        return f"{label} ({self.metric} {mean} +/- {se} SE of the restarts{', ' + size if size else ''})"


def fewer_parameters(chosen: pd.Series, best: pd.Series) -> str:
    """``12x fewer parameters`` / ``35% fewer parameters`` / ``as many parameters``."""
    p, q = num(chosen, "params"), num(best, "params")
    if not (math.isfinite(p) and math.isfinite(q)) or p <= 0:
        return ""
    if q >= 2 * p:
        return f", with {q / p:.0f}x fewer parameters"
    if q > p:
        return f", with {100 * (1 - p / q):.0f}% fewer parameters"
    if q == p:
        return ", with as many parameters"
    return f", with {p / q:.1f}x the parameters"


def limits_text(max_params: int | None, max_latency_ms: float | None) -> str:
    parts = []
    if max_params is not None:
        parts.append(f"max_params={max_params:,}")
    if max_latency_ms is not None:
        parts.append(f"max_latency={max_latency_ms:g} ms")
    return " and ".join(parts)


def latency_note(row: pd.Series) -> str:
    lat = num(row, "latency_ms")
    return f" at {lat:.3g} ms per sample" if math.isfinite(lat) else ""


def format_difference(mean: float, se: float, percent: bool, places: int | None = None) -> str:
    """A paired difference as people read it: ``"+0.33 +/- 0.37 points"`` (percent) or
    ``"+0.012 +/- 0.004"``; the SE is left out when it is not finite. ``places``: the decimals
    (default 2 for points, 3 otherwise), more where a smaller difference needs them."""
    scale, unit, default = (100.0, " points", 2) if percent else (1.0, "", 3)
    places = default if places is None else places
    spread = f" +/- {se * scale:.{places}f}" if math.isfinite(se) else ""
    return f"{mean * scale:+.{places}f}{spread}{unit}"


def paired_over(n_rows: int, n_restarts: int, ensembles: bool) -> str:
    """``"paired over 360 validation rows x 5 restarts"``, or for ensembles (select/ensemble_noise.py)
    ``"between the ensembles of 5 restarts, paired over 360 validation rows"``."""
    if ensembles:
        return f"between the ensembles of {n_restarts} restarts, paired over {n_rows:,} validation rows"
    return f"paired over {n_rows:,} validation rows x {n_restarts} restarts"


def describe_paired(evidence: dict[str, Any], chosen_label: str, percent: bool) -> str:
    """``"1x128 vs the best, 2x256: -0.28 +/- 0.31 points (mean and SE of the difference over 360
    validation rows x 5 restarts, paired by row and seed; SE parts: rows 0.29, restarts 0.08)"``; without
    per-row evidence (``n_rows`` absent) the restarts alone are paired."""
    head = (f"{chosen_label} vs the {evidence['relation']}, {evidence['other_label']}: "
            f"{format_difference(evidence['mean_diff'], evidence['se_diff'], percent)}")
    n_rows = evidence.get("n_rows")
    if n_rows:
        scale, places = (100.0, 2) if percent else (1.0, 3)
        parts = (f"rows {scale * float(evidence['se_rows']):.{places}f}, "
                 f"restarts {scale * float(evidence['se_restarts']):.{places}f}")
        if evidence.get("ensembles"):
            return (f"{head} (mean and SE of the difference {paired_over(int(n_rows), int(evidence['n']), True)}; "
                    f"SE parts: {parts})")
        return (f"{head} (mean and SE of the difference over {int(n_rows):,} validation rows x {evidence['n']} "
                f"restarts, paired by row and seed; SE parts: {parts})")
    return f"{head} (mean and standard error of the difference over {evidence['n']} restarts paired by seed)"
