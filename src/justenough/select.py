"""Choosing the just-enough config, and the statistics of restarts.

The leaderboard has one row per config, built from the restarts table (one row per restart) by
``leaderboard``. A *rule* then picks the simplest config that is good enough:

- ``one-se`` (the default): among configs whose mean validation score lies within one standard
  error of the best config's mean (the best config's SE), the simplest. Breiman et al. (1984)
  and Hastie et al. (ESL, 7.10): differences smaller than the noise of the estimate are not
  evidence, so take the simplest model that the data cannot tell apart from the best.
- ``target=X``: the simplest config whose mean reaches X.
- ``tolerance=E``: the simplest config within E of the best mean.

Simplest means fewest parameters, then fewest FLOPs, then lowest measured latency. Limits
(``max_params``, ``max_latency_ms`` per sample) remove configs before the rule is applied, so
"best" means the best config within the limits. A config whose every restart diverged is never
chosen. Scores are "higher is better" (accuracy, R^2). When the choice is the simplest config
within the limits, the explanation says so rather than comparing it with simpler configs that do
not exist. ``best_first`` is the one row order of every leaderboard shown or written.

Restart statistics answer "how many restarts do I need?": ``p_good`` is the fraction of a config's
restarts that land within a tolerance of its best restart, and ``restarts_for_95(p_good)`` is the
number of restarts after which at least one good one is 95% likely: the smallest n with
``1 - (1 - p)^n >= 0.95``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from justenough.errors import ConfigError, option
from justenough.recipe import training_columns

__all__ = [
    "RULES",
    "Rule",
    "Choice",
    "parse_rule",
    "leaderboard",
    "best_first",
    "choose",
    "p_good",
    "restarts_for_95",
    "paired_scores",
    "paired_difference",
    "paired_evidence",
    "describe_paired",
    "format_difference",
    "DEFAULT_GOOD_TOLERANCE",
]

RULES: tuple[str, ...] = ("one-se", "paired-se", "target", "tolerance")
_VALUELESS = ("one-se", "paired-se")
# A restart is "good" when its validation score is within this of the config's best restart
# (1 point of accuracy, or 0.01 of R^2).
DEFAULT_GOOD_TOLERANCE = 0.01
_RULE_EXAMPLE = 'write "one-se", "paired-se", "target=0.95" or "tolerance=0.01"'
# Scores that differ by less than this are equal: the SE comparison must not hinge on rounding.
_EPS = 1e-12
# Columns copied from the restarts table to the leaderboard: constant within a config.
_CONFIG_COLUMNS = (
    "label", "depth", "widths", "width", "activation", "init", "optimizer", "lr", "weight_decay",
    "batch_size", "max_epochs", "patience", "monitor", "schedule", "params", "flops", "latency_ms",
)


# ----------------------------------------------------------------------------------------------
# Rules
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How the final config is chosen: ``kind`` is one of ``RULES``; ``value`` is X or E (or None)."""

    kind: str = "one-se"
    value: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in RULES:
            raise ConfigError(f"unknown rule {self.kind!r}: {_RULE_EXAMPLE}")
        if self.kind in _VALUELESS and self.value is not None:
            raise ConfigError(f"the {self.kind} rule takes no value (got {self.value}): {_RULE_EXAMPLE}")
        if self.kind not in _VALUELESS:
            if self.value is None or not math.isfinite(self.value):
                raise ConfigError(f"the {self.kind} rule needs a number: {_RULE_EXAMPLE}")
            if self.kind == "target" and self.value > 1:
                raise ConfigError(
                    f"target={self.value:g} cannot be reached: scores are fractions (accuracy, R^2 <= 1); "
                    f"write target={self.value / 100:g} or target={self.value:g}%"
                )
            if self.kind == "tolerance" and self.value < 0:
                raise ConfigError(f"tolerance={self.value:g} must be 0 or more, e.g. tolerance=0.01")

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}={self.value:g}"


def parse_rule(text: str | Rule) -> Rule:
    """``"one-se"`` | ``"paired-se"`` | ``"target=0.95"`` (or ``95%``) | ``"tolerance=0.01"`` -> ``Rule``.

    Bad text raises ``ConfigError`` with the accepted forms.
    """
    if isinstance(text, Rule):
        return text
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"cannot read the rule {text!r}: {_RULE_EXAMPLE}")
    t = text.strip().lower().replace(" ", "")
    if t in ("one-se", "one_se", "onese", "1se", "1-se"):
        return Rule("one-se")
    if t in ("paired-se", "paired_se", "pairedse"):
        return Rule("paired-se")
    if "=" not in t:
        raise ConfigError(f"cannot read the rule {text!r}: {_RULE_EXAMPLE}")
    kind, _, raw = t.partition("=")
    kind = {"tol": "tolerance"}.get(kind, kind)
    if kind not in ("target", "tolerance"):
        raise ConfigError(f"unknown rule {kind!r} in {text!r}: {_RULE_EXAMPLE}")
    divisor = 1.0
    if raw.endswith("%"):
        raw, divisor = raw[:-1], 100.0  # 95/100 is exactly 0.95; 95*0.01 is not
    try:
        value = float(raw) / divisor
    except ValueError:
        raise ConfigError(f"cannot read the number {raw!r} in the rule {text!r}: {_RULE_EXAMPLE}") from None
    return Rule(kind, value)


# ----------------------------------------------------------------------------------------------
# Restart statistics
# ----------------------------------------------------------------------------------------------


def p_good(scores: Iterable[float], diverged: Iterable[bool] | None = None, tolerance: float = DEFAULT_GOOD_TOLERANCE) -> float:
    """Fraction of restarts whose score is within ``tolerance`` of the best restart.

    Diverged restarts (and non-finite scores) count as not good but stay in the denominator:
    they are restarts that were paid for. ``nan`` when there are no restarts.
    """
    s = np.asarray(list(scores), dtype=float)
    d = np.zeros(len(s), dtype=bool) if diverged is None else np.asarray(list(diverged), dtype=bool)
    if len(s) == 0:
        return float("nan")
    ok = ~d & np.isfinite(s)
    if not ok.any():
        return 0.0
    best = s[ok].max()
    good = ok & (s >= best - tolerance - _EPS)
    return float(good.sum() / len(s))


def restarts_for_95(p: float | None) -> int | None:
    """Restarts needed so that at least one is good with probability 0.95.

    ``ceil(log 0.05 / log(1 - p))``; 1 when every restart is good, ``None`` when none is
    (no number of restarts is enough).
    """
    if p is None or not math.isfinite(p) or p <= 0:
        return None
    if p >= 1:
        return 1
    # The tiny slack keeps an exact integer ratio from rounding up one too many.
    return max(1, math.ceil(math.log(0.05) / math.log1p(-p) - 1e-9))


def _diverged(group: pd.DataFrame) -> np.ndarray:
    """The ``diverged`` flags as booleans (missing column or missing values: not diverged; text
    read back from a CSV: "True"/"1")."""
    if "diverged" not in group.columns:
        return np.zeros(len(group), dtype=bool)

    def flag(x: Any) -> bool:
        if isinstance(x, str):
            return x.strip().lower() in ("true", "1")
        return False if pd.isna(x) else bool(x)

    return np.array([flag(x) for x in group["diverged"]], dtype=bool)


def _val_scores(group: pd.DataFrame) -> np.ndarray:
    """All validation scores as floats (missing: NaN)."""
    return pd.to_numeric(group["val_score"], errors="coerce").to_numpy(dtype=float)


def _scores(group: pd.DataFrame) -> np.ndarray:
    """Validation scores of the non-diverged restarts with a finite score."""
    s = _val_scores(group)
    return s[~_diverged(group) & np.isfinite(s)]


def leaderboard(restarts: pd.DataFrame, *, tolerance: float = DEFAULT_GOOD_TOLERANCE) -> pd.DataFrame:
    """One row per config from a restarts table (one row per restart).

    ``restarts`` needs ``key, restart, val_score, diverged``; config columns (``label, depth,
    widths, params, flops, ...``) are carried over when present. Statistics over the non-diverged
    restarts: ``val_mean``, ``val_std`` (ddof=1; 0 for one restart), ``val_se`` (std/sqrt(n)),
    ``val_min``, ``val_max``; and ``n_restarts``, ``n_diverged``, ``p_good``, ``restarts_for_95``
    (nullable integer), ``train_time`` (sum) and ``pruned`` (any) when present; how the config
    was trained (``recipe.training_columns``: ``epochs_run``, ``best_epoch``, ``stopped_by``,
    ``training_flag``) when the restarts say. Rows keep the order in which configs first appear.
    """
    missing = [c for c in ("key", "val_score") if c not in restarts.columns]
    if missing:
        raise ConfigError(f"the restarts table lacks the column(s) {', '.join(missing)}: it needs key, restart, val_score, diverged")
    rows: list[dict[str, Any]] = []
    for key, group in restarts.groupby("key", sort=False):
        ok = _scores(group)
        n = len(ok)
        std = float(ok.std(ddof=1)) if n > 1 else (0.0 if n == 1 else float("nan"))
        div = _diverged(group)
        pg = p_good(_val_scores(group), div, tolerance)
        row: dict[str, Any] = {"key": key}
        for col in _CONFIG_COLUMNS:
            if col in group.columns:
                row[col] = group[col].iloc[0]
        row.update(
            {
                "val_mean": float(ok.mean()) if n else float("nan"),
                "val_std": std,
                "val_se": std / math.sqrt(n) if n else float("nan"),
                "val_min": float(ok.min()) if n else float("nan"),
                "val_max": float(ok.max()) if n else float("nan"),
                "n_restarts": int(len(group)),
                "n_diverged": int(div.sum()),
                "p_good": pg,
                "restarts_for_95": restarts_for_95(pg),
            }
        )
        if "train_time" in group.columns:
            row["train_time"] = float(pd.to_numeric(group["train_time"], errors="coerce").sum())
        if "pruned" in group.columns:
            row["pruned"] = bool(any(False if pd.isna(x) else bool(x) for x in group["pruned"]))
        row.update(training_columns(group))  # how it was trained: epochs, why it stopped, a flag
        rows.append(row)
    board = pd.DataFrame(rows)
    if board.empty:
        return board
    board["restarts_for_95"] = board["restarts_for_95"].astype("Int64")
    return board


def paired_scores(restarts: pd.DataFrame, key_a: str, key_b: str, *, pairs_only: bool = True) -> pd.DataFrame:
    """Validation scores of two configs side by side, by restart: columns ``a`` and ``b``, indexed
    by restart, NaN where a restart diverged or is missing. ``pairs_only`` keeps the restarts
    where both have a score (the pairs); otherwise every restart either has, in order."""
    keys = restarts["key"].astype(str)
    for key in (key_a, key_b):
        if key not in set(keys):
            raise ConfigError(f"no restarts of config {key!r} in the table: check the key (see leaderboard.csv)")

    def side(key: str) -> pd.Series:
        g = restarts[keys == key]
        s = np.where(_diverged(g), np.nan, _val_scores(g))
        return pd.Series(s, index=g["restart"].astype(int).to_numpy())

    joined = pd.concat([side(key_a).rename("a"), side(key_b).rename("b")], axis=1, join="outer").sort_index()
    return joined.dropna() if pairs_only else joined


def paired_difference(restarts: pd.DataFrame, key_a: str, key_b: str) -> dict[str, float]:
    """Mean and standard error of ``score(a) - score(b)``, pairing restart k of a with restart k of b.

    Restart k of every config shares seed stream k (common random numbers), so the paired
    difference cancels the luck of the draw that both share. Pairs where either restart
    diverged are left out. Returns ``{"mean_diff", "se_diff", "n"}`` (``nan`` when n is too small).
    """
    joined = paired_scores(restarts, key_a, key_b)
    d = (joined["a"] - joined["b"]).to_numpy(dtype=float)
    n = len(d)
    mean = float(d.mean()) if n else float("nan")
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {"mean_diff": mean, "se_diff": se, "n": n}


# ----------------------------------------------------------------------------------------------
# Choosing
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """The chosen config: its ``key``, its leaderboard ``row``, the ``rule``, why, and the best."""

    key: str
    row: dict[str, Any]
    rule: Rule
    explanation: str
    best_key: str
    qualified: tuple[str, ...] = field(default_factory=tuple)


def _num(row: pd.Series | dict[str, Any], col: str) -> float:
    v = row.get(col) if isinstance(row, dict) else row.get(col, float("nan"))
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return f


def _column(board: pd.DataFrame, col: str) -> pd.Series:
    """A numeric column (float), all NaN when the board lacks it."""
    if col not in board.columns:
        return pd.Series(np.nan, index=board.index, dtype=float)
    return pd.to_numeric(board[col], errors="coerce").astype(float)


def _simplest_first(board: pd.DataFrame) -> pd.DataFrame:
    """Fewest parameters, then fewest FLOPs, then lowest latency (unknown last), then best mean, then key."""
    b = board.assign(
        _params=_column(board, "params").fillna(np.inf),
        _flops=_column(board, "flops").fillna(np.inf),
        _lat=_column(board, "latency_ms").fillna(np.inf),
        _neg_mean=-_column(board, "val_mean"),
        _key=board["key"].astype(str),
    )
    b = b.sort_values(["_params", "_flops", "_lat", "_neg_mean", "_key"], kind="stable")
    return b.drop(columns=["_params", "_flops", "_lat", "_neg_mean", "_key"])


class _Fmt:
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
        """``2x128 (accuracy 97.4% +/- 0.2 SE, 12,345 parameters)``."""
        label = str(row.get("label", row["key"]))
        params = _num(row, "params")
        size = f", {int(params):,} parameters" if math.isfinite(params) else ""
        return f"{label} ({self.metric} {self.score(_num(row, 'val_mean'))} +/- {self.spread(_num(row, 'val_se'))} SE{size})"


def _fewer(chosen: pd.Series, best: pd.Series) -> str:
    """``12x fewer parameters`` / ``35% fewer parameters`` / ``as many parameters``."""
    p, q = _num(chosen, "params"), _num(best, "params")
    if not (math.isfinite(p) and math.isfinite(q)) or p <= 0:
        return ""
    if q >= 2 * p:
        return f", with {q / p:.0f}x fewer parameters"
    if q > p:
        return f", with {100 * (1 - p / q):.0f}% fewer parameters"
    if q == p:
        return ", with as many parameters"
    return f", with {p / q:.1f}x the parameters"


def _limits_text(max_params: int | None, max_latency_ms: float | None) -> str:
    parts = []
    if max_params is not None:
        parts.append(f"max_params={max_params:,}")
    if max_latency_ms is not None:
        parts.append(f"max_latency={max_latency_ms:g} ms")
    return " and ".join(parts)


def choose(
    leaderboard: pd.DataFrame,
    rule: Rule | str = "one-se",
    max_params: int | None = None,
    max_latency_ms: float | None = None,
    *,
    metric_name: str = "accuracy",
    percent: bool | None = None,
    restarts: pd.DataFrame | None = None,
) -> Choice:
    """Pick the just-enough config from a leaderboard with ``rule`` within the limits.

    ``paired-se`` compares every config with the best restart by restart (``restarts``, the
    per-restart table, is then required): a config qualifies when the best's paired advantage
    over it is at most one standard error of that paired difference.

    ``leaderboard`` needs ``key, val_mean, val_se, n_restarts, n_diverged`` and, for "simplest",
    ``params``, ``flops`` and ``latency_ms`` (NaN latency sorts last). ``percent`` prints scores as
    percentages (default: for accuracy-like metrics). Raises ``ConfigError`` when no config
    qualifies, saying what the best available is and how to relax the rule or the limits.
    """
    rule = parse_rule(rule)
    if percent is None:
        percent = "accuracy" in metric_name
    fmt = _Fmt(metric_name, percent)
    if leaderboard is None or len(leaderboard) == 0:
        raise ConfigError("the leaderboard is empty: no config finished, so there is nothing to choose from")
    board = leaderboard.reset_index(drop=True)
    missing = [c for c in ("key", "val_mean") if c not in board.columns]
    if missing:
        raise ConfigError(f"the leaderboard lacks the column(s) {', '.join(missing)}: build it with select.leaderboard")
    means = _column(board, "val_mean")
    n_restarts = _column(board, "n_restarts")
    n_ok = n_restarts.fillna(1.0) - _column(board, "n_diverged").fillna(0.0)
    alive = board[np.isfinite(means.to_numpy()) & (n_ok.to_numpy() > 0)]
    if alive.empty:
        raise ConfigError(
            "every restart of every config diverged (or scored nothing): there is no config to choose; "
            f"lower the learning rate (e.g. {option('lr', '1e-4')}) or use an optimizer such as adam"
        )

    # Limits first: "best" then means the best config the user would accept.
    within = alive
    if max_params is not None:
        within = within[_column(within, "params") <= max_params]
    if max_latency_ms is not None:
        within = within[_column(within, "latency_ms") <= max_latency_ms]  # unknown latency cannot be shown to meet the limit
    overall_best = _best(alive)
    if within.empty:
        smallest = _simplest_first(alive).iloc[0]
        raise ConfigError(
            f"no config meets the limits ({_limits_text(max_params, max_latency_ms)}): the smallest is "
            f"{fmt.entry(smallest)}{_latency_note(smallest)} and the best is {fmt.entry(overall_best)}; "
            "relax the limits or add smaller widths to the space"
        )
    best = _best(within)
    best_mean, best_se = _num(best, "val_mean"), _num(best, "val_se")
    best_se = best_se if math.isfinite(best_se) else 0.0
    wmeans = _column(within, "val_mean")
    paired: dict[str, dict[str, float]] = {}  # paired-se: the best minus each other config, by key
    if rule.kind == "paired-se":
        if restarts is None:
            raise ConfigError("the paired-se rule compares restarts: pass the restarts table (restarts=...)")
        threshold = best_mean - best_se  # for the explanation of a best that nothing matches
        paired = {k: paired_difference(restarts, str(best["key"]), k) for k in within["key"].astype(str) if k != str(best["key"])}
        # The best itself, and every config the best does not beat by more than one paired SE
        # (at least two pairs are needed for an SE: with fewer, the config cannot qualify).
        close = [k not in paired or (paired[k]["n"] >= 2 and paired[k]["mean_diff"] <= paired[k]["se_diff"] + _EPS)
                 for k in within["key"].astype(str)]
        qualified = within[close]
    else:
        if rule.kind == "one-se":
            threshold = best_mean - best_se
        elif rule.kind == "tolerance":
            threshold = best_mean - float(rule.value)  # type: ignore[arg-type]
        else:
            threshold = float(rule.value)  # type: ignore[arg-type]
        qualified = within[wmeans >= threshold - _EPS]
    limited = len(within) < len(alive)
    if qualified.empty:
        # Only a target can leave nothing: one-se and tolerance always keep the best itself.
        where = f" within the limits ({_limits_text(max_params, max_latency_ms)})" if limited else ""
        raise ConfigError(
            f"no config reaches the target {metric_name} {fmt.score(threshold)}{where}: the best is "
            f"{fmt.entry(best)}; lower the target (e.g. {option('rule', f'target={math.floor(best_mean * 1000 + 1e-9) / 1000:g}')}), "
            f"widen the space (more depth or width, more epochs) or use {option('rule', 'one-se')}"
        )
    chosen = _simplest_first(qualified).iloc[0]
    # Every config within the limits counts, diverged ones too: a simpler config that scored
    # nothing still exists, so the explanation must not say the choice has no simpler rival.
    in_limits = board
    if max_params is not None:
        in_limits = in_limits[_column(in_limits, "params") <= max_params]
    if max_latency_ms is not None:
        in_limits = in_limits[_column(in_limits, "latency_ms") <= max_latency_ms]

    explanation = _explain(rule, chosen, best, fmt, threshold, paired.get(str(chosen["key"])),
                           simplest=_is_simplest(chosen, in_limits))
    if limited and str(overall_best["key"]) != str(best["key"]):
        explanation += (
            f". The limits ({_limits_text(max_params, max_latency_ms)}) exclude the overall best, "
            f"{fmt.entry(overall_best)}"
        )
    row = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in chosen.to_dict().items()}
    row = {k: (None if v is pd.NA else v) for k, v in row.items()}
    return Choice(
        key=str(chosen["key"]),
        row=row,
        rule=rule,
        explanation=explanation,
        best_key=str(best["key"]),
        qualified=tuple(str(k) for k in _simplest_first(qualified)["key"]),
    )


def paired_evidence(board: pd.DataFrame, restarts: pd.DataFrame, choice: Choice) -> dict[str, Any] | None:
    """The chosen config compared pairwise with its closest rival, restart k against restart k.

    The rival is the best config when the choice is not the best (how much does the simpler
    choice give up?), else the best of the simpler configs (how much better is the choice than
    what it beat?). Returns ``{"other_key", "other_label", "relation", "mean_diff", "se_diff",
    "n"}`` with ``mean_diff = score(chosen) - score(other)``, or None when there is no rival or
    no restart pairs.
    """
    mine = board[board["key"].astype(str) == choice.key]
    if mine.empty:
        return None
    if choice.best_key != choice.key:
        others, relation = board[board["key"].astype(str) == choice.best_key], "best"
    else:
        params = _num(mine.iloc[0], "params")
        simpler = board[(_column(board, "params") < params) & np.isfinite(_column(board, "val_mean").to_numpy())]
        if "pruned" in simpler.columns:
            simpler = simpler[~simpler["pruned"].astype(bool)]
        if simpler.empty:
            return None
        others, relation = simpler.loc[[_column(simpler, "val_mean").idxmax()]], "best simpler"
    if others.empty:
        return None
    other = others.iloc[0]
    diff = paired_difference(restarts, choice.key, str(other["key"]))
    if not diff["n"]:
        return None
    label = other.get("label")
    return {
        "other_key": str(other["key"]),
        "other_label": str(label) if label is not None else str(other["key"]),
        "relation": relation,
        **diff,
    }


def format_difference(mean: float, se: float, percent: bool) -> str:
    """A paired difference as people read it: ``"+0.33 +/- 0.37 points"`` (percent) or
    ``"+0.012 +/- 0.004"``; the SE is left out when it is not finite."""
    scale, unit, places = (100.0, " points", 2) if percent else (1.0, "", 3)
    spread = f" +/- {se * scale:.{places}f}" if math.isfinite(se) else ""
    return f"{mean * scale:+.{places}f}{spread}{unit}"


def describe_paired(evidence: dict[str, Any], chosen_label: str, percent: bool) -> str:
    """``"1x128 vs the best, 2x256: -0.28 +/- 0.31 points (mean and standard error ...)"``."""
    return (
        f"{chosen_label} vs the {evidence['relation']}, {evidence['other_label']}: "
        f"{format_difference(evidence['mean_diff'], evidence['se_diff'], percent)} "
        f"(mean and standard error of the difference over {evidence['n']} restarts paired by seed)"
    )


def best_first(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard's rows in the order every table shows them: the highest validation mean
    first (configs without one last); equal means: the simplest first (fewest parameters, then
    FLOPs, then lowest latency, unknown last), then by key. The index is reset."""
    b = board.assign(
        _neg_mean=-_column(board, "val_mean"),
        _params=_column(board, "params").fillna(np.inf),
        _flops=_column(board, "flops").fillna(np.inf),
        _lat=_column(board, "latency_ms").fillna(np.inf),
        _key=board["key"].astype(str) if "key" in board.columns else "",  # a table without keys keeps its order
    )
    b = b.sort_values(["_neg_mean", "_params", "_flops", "_lat", "_key"], kind="stable", na_position="last")
    return b.drop(columns=["_neg_mean", "_params", "_flops", "_lat", "_key"]).reset_index(drop=True)


def _best(board: pd.DataFrame) -> pd.Series:
    """The highest mean; among equal means, the simplest."""
    means = _column(board, "val_mean")
    top = board[means >= means.max() - _EPS]
    return _simplest_first(top).iloc[0]


def _latency_note(row: pd.Series) -> str:
    lat = _num(row, "latency_ms")
    return f" at {lat:.3g} ms per sample" if math.isfinite(lat) else ""


def _complexity(board: pd.DataFrame) -> pd.DataFrame:
    """What "simpler" compares, in order: params, FLOPs, latency (unknown: infinitely complex)."""
    return pd.DataFrame({
        "params": _column(board, "params").fillna(np.inf),
        "flops": _column(board, "flops").fillna(np.inf),
        "latency": _column(board, "latency_ms").fillna(np.inf),
    }, index=board.index)


def _is_simplest(chosen: pd.Series, candidates: pd.DataFrame) -> bool:
    """True when no config of ``candidates`` is simpler than ``chosen`` (params, then FLOPs, then
    latency, compared as a tuple; a config exactly as simple does not make the choice less simple)."""
    mine = tuple(_complexity(pd.DataFrame([chosen])).iloc[0])
    return not any(tuple(row) < mine for row in _complexity(candidates).itertuples(index=False))


_SIMPLEST = "it is the simplest config to choose from"


def _explain(rule: Rule, chosen: pd.Series, best: pd.Series, fmt: _Fmt, threshold: float,
             paired: dict[str, float] | None = None, *, simplest: bool = False) -> str:
    same = str(chosen["key"]) == str(best["key"])
    if same and simplest and rule.kind != "target":
        # No simpler config exists to be compared with: say so instead of "no simpler config comes close".
        return f"picked {fmt.entry(chosen)}: it has the best mean, and {_SIMPLEST}"
    text = _explain_by_rule(rule, chosen, best, fmt, threshold, paired, same=same, simplest=simplest)
    if simplest and rule.kind != "target":
        text += f"; {_SIMPLEST}"
    return text


def _explain_by_rule(rule: Rule, chosen: pd.Series, best: pd.Series, fmt: _Fmt, threshold: float,
                     paired: dict[str, float] | None, *, same: bool, simplest: bool) -> str:
    if rule.kind == "paired-se":
        if same:
            return (
                f"picked {fmt.entry(chosen)}: it has the best mean, and it beats every simpler config by more "
                "than one SE of the paired difference (restarts paired by seed)"
            )
        d = paired or {}
        ahead = format_difference(float(d.get("mean_diff", math.nan)), float(d.get("se_diff", math.nan)), fmt.percent)
        return (
            f"picked {fmt.entry(chosen)}, within one paired SE of the best, {fmt.entry(best)}: the best is ahead by "
            f"{ahead} over {int(d.get('n', 0))} restarts paired by seed{_fewer(chosen, best)}"
        )
    if rule.kind == "one-se":
        if same:
            return (
                f"picked {fmt.entry(chosen)}: it has the best mean, and no simpler config comes within "
                f"1 SE of it (above {fmt.score(threshold)})"
            )
        return f"picked {fmt.entry(chosen)}, within 1 SE of the best, {fmt.entry(best)}{_fewer(chosen, best)}"
    if rule.kind == "tolerance":
        tol = fmt.spread(float(rule.value)) + (" points" if fmt.percent else "")  # type: ignore[arg-type]
        if same:
            return f"picked {fmt.entry(chosen)}: it has the best mean, and no simpler config comes within {tol} of it"
        return f"picked {fmt.entry(chosen)}, within the tolerance {tol} of the best, {fmt.entry(best)}{_fewer(chosen, best)}"
    text = f"picked {fmt.entry(chosen)}: the simplest config whose mean reaches the target {fmt.score(threshold)}"
    if simplest:
        text = f"picked {fmt.entry(chosen)}: {_SIMPLEST}, and its mean reaches the target {fmt.score(threshold)}"
    if not same:
        text += f"; the best is {fmt.entry(best)}{_fewer(chosen, best)}"
    return text
