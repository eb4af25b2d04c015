"""The rules that pick the simplest config that is good enough, one class per rule.

- ``one-se`` (the default): the simplest config whose gap to the best config is within one
  standard error of that gap. Breiman et al. (1984) and Hastie et al. (ESL, 7.10): differences
  smaller than the noise of the estimate are not evidence, so take the simplest model that the
  data cannot tell apart from the best. The SE is the noise model's (``select/noise.py``): the
  gap paired over the same validation rows and restart seeds, counting which rows happened to
  validate as well as which seeds trained. ``paired-se``, the restarts-only rule before it, is
  read as ``one-se``.
- ``target=X``: the simplest config whose mean reaches X.
- ``tolerance=E``: the simplest config within E of the best mean.

Each rule says which configs qualify (``qualified``) and why the choice was made (``explain``),
the way Optuna gives each sampler its own class. ``Rule(kind, value)`` and ``parse_rule(text)``
both build the rule's own class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd

from justenough.errors import ConfigError
from justenough.select.explain import SIMPLEST, fewer_parameters, Fmt, format_difference, paired_over
from justenough.select.order import numeric_column, num
from justenough.select.noise import RowEvidence, paired_noise
from justenough.select.stats import EPS

__all__ = [
    "RULES",
    "Rule",
    "OneSERule",
    "TargetRule",
    "ToleranceRule",
    "Candidates",
    "parse_rule",
]

RULES: tuple[str, ...] = ("one-se", "target", "tolerance")
_VALUELESS = ("one-se",)
# The rules that were folded into another, by the name they are read as.
_RETIRED = {"paired-se": "one-se"}
_RULE_EXAMPLE = 'write "one-se", "target=0.95" or "tolerance=0.01"'


@dataclass(frozen=True)
class Candidates:
    """The configs a rule accepts (``rows``, leaderboard rows), the score its explanation quotes
    (``threshold``) and, for ``one-se``, the best minus each other config by key, with its SE and
    the restarts and rows it was paired over (``paired``)."""

    rows: pd.DataFrame
    threshold: float
    paired: dict[str, dict[str, float]] = field(default_factory=dict)


def _best_mean_and_se(best: pd.Series) -> tuple[float, float]:
    """The best config's mean and SE (an unknown SE counts as 0)."""
    best_mean, best_se = num(best, "val_mean"), num(best, "val_se")
    return best_mean, best_se if math.isfinite(best_se) else 0.0


@dataclass(frozen=True)
class Rule:
    """How the final config is chosen: ``kind`` is one of ``RULES``; ``value`` is X or E (or None).

    ``Rule("one-se")`` builds a ``OneSERule`` (and so on for each kind): every rule is an instance
    of its own class, whichever way it was written.
    """

    kind: str = "one-se"
    value: float | None = None
    # Whether the explanation may say "it is the simplest config to choose from" (a target's
    # explanation says it its own way).
    says_simplest: ClassVar[bool] = True

    def __new__(cls, kind: str = "one-se", value: float | None = None) -> Rule:
        kind = _RETIRED.get(kind, kind)
        if cls is Rule:
            cls = _RULE_CLASSES.get(kind, Rule)  # an unknown kind stays a Rule: __post_init__ refuses it
        return super().__new__(cls)

    def __post_init__(self) -> None:
        if self.kind in _RETIRED:
            object.__setattr__(self, "kind", _RETIRED[self.kind])
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

    def threshold(self, best: pd.Series) -> float:
        """The mean a config must reach to qualify, given the best config within the limits."""
        raise NotImplementedError(f"the {self.kind} rule has no threshold")

    def qualified(self, within: pd.DataFrame, best: pd.Series, restarts: pd.DataFrame | None,
                  evidence: RowEvidence | None = None) -> Candidates:
        """The configs of ``within`` (leaderboard rows within the limits) that the rule accepts;
        ``best`` is the best of them; ``restarts`` the per-restart table; ``evidence`` each
        config's per-row shares (``select/noise.py``; one-se pairs configs on them)."""
        threshold = self.threshold(best)
        return Candidates(within[numeric_column(within, "val_mean") >= threshold - EPS], threshold)

    def explain(self, chosen: pd.Series, best: pd.Series, fmt: Fmt, threshold: float,
                paired: dict[str, float] | None = None, *, simplest: bool = False) -> str:
        """Why ``chosen`` was picked, compared with ``best``: one sentence (``simplest``: no config
        within the limits is simpler)."""
        same = str(chosen["key"]) == str(best["key"])
        if same and simplest and self.says_simplest:
            # No simpler config exists to be compared with: say so instead of "no simpler config comes close".
            return f"picked {fmt.entry(chosen)}: it has the best mean, and {SIMPLEST}"
        text = self._explain_choice(chosen, best, fmt, threshold, paired, same=same, simplest=simplest)
        if simplest and self.says_simplest:
            text += f"; {SIMPLEST}"
        return text

    def _explain_choice(self, chosen: pd.Series, best: pd.Series, fmt: Fmt, threshold: float,
                        paired: dict[str, float] | None, *, same: bool, simplest: bool) -> str:
        raise NotImplementedError(f"the {self.kind} rule has no explanation")


class OneSERule(Rule):
    """``one-se``: the best's advantage over the config is within the noise model's 68% band
    (``select/noise.py``: one SE, widened when a few restarts dominate the noise) of the paired
    difference over the same validation rows and the same restart seeds; judged as ensembles,
    within the band of the rows' part alone (``Noise.room``). A config without per-row evidence
    falls back to the restarts' spread: its mean within one SE of the best config's mean."""

    def threshold(self, best: pd.Series) -> float:
        best_mean, best_se = _best_mean_and_se(best)
        return best_mean - best_se

    def qualified(self, within: pd.DataFrame, best: pd.Series, restarts: pd.DataFrame | None,
                  evidence: RowEvidence | None = None) -> Candidates:
        threshold = self.threshold(best)
        best_key = str(best["key"])
        paired: dict[str, dict[str, float]] = {}
        close = []
        for key, mean in zip(within["key"].astype(str), numeric_column(within, "val_mean")):
            noise = None if key == best_key else paired_noise(evidence, best_key, key)
            if noise is not None:
                paired[key] = {"mean_diff": noise.mean, "se_diff": noise.se, "band": noise.band, "room": noise.room,
                               "se_rows": noise.se_rows, "se_restarts": noise.se_restarts, "n": noise.n_restarts,
                               "n_rows": noise.n_rows, "ensembles": float(noise.ensembles)}
                close.append(noise.mean <= noise.room + EPS)
            else:
                close.append(key == best_key or mean >= threshold - EPS)
        return Candidates(within[close], threshold, paired)

    def _explain_choice(self, chosen: pd.Series, best: pd.Series, fmt: Fmt, threshold: float,
                        paired: dict[str, float] | None, *, same: bool, simplest: bool) -> str:
        ensembles = math.isfinite(num(chosen, "val_mean_restarts"))  # judged as ensembles (select/ensemble_noise.py)
        if same and math.isfinite(num(chosen, "val_se_rows")):  # paired over rows and restarts
            return (
                f"picked {fmt.entry(chosen)}: it has the best mean, and it beats every simpler config by more "
                + ("than the rows' band of the paired difference of the ensembles" if ensembles else
                   "than one SE of the paired difference")
            )
        if same:
            return (
                f"picked {fmt.entry(chosen)}: it has the best mean, and no simpler config comes within "
                f"1 SE of it (above {fmt.score(threshold)})"
            )
        if paired:
            ahead = format_difference(float(paired["mean_diff"]), float(paired["se_diff"]), fmt.percent)
            over = paired_over(int(paired["n_rows"]), int(paired["n"]), bool(paired.get("ensembles")))
            if paired.get("ensembles") and "room" in paired:
                room = format_difference(float(paired["room"]), math.nan, fmt.percent).lstrip("+")
                return (
                    f"picked {fmt.entry(chosen)}, within the rows' band of the best, {fmt.entry(best)}: the best is "
                    f"ahead by {ahead} (mean +/- SE), {over}; the rows' band is {room} (the restarts' part of the "
                    f"SE is no room){fewer_parameters(chosen, best)}"
                )
            return (
                f"picked {fmt.entry(chosen)}, within one SE of the best, {fmt.entry(best)}: the best is ahead by "
                f"{ahead} (mean +/- SE), {over}{fewer_parameters(chosen, best)}"
            )
        return f"picked {fmt.entry(chosen)}, within 1 SE of the best, {fmt.entry(best)}{fewer_parameters(chosen, best)}"


class TargetRule(Rule):
    """``target=X``: the mean reaches X."""

    says_simplest: ClassVar[bool] = False

    def threshold(self, best: pd.Series) -> float:
        return float(self.value)  # type: ignore[arg-type]

    def _explain_choice(self, chosen: pd.Series, best: pd.Series, fmt: Fmt, threshold: float,
                        paired: dict[str, float] | None, *, same: bool, simplest: bool) -> str:
        text = f"picked {fmt.entry(chosen)}: the simplest config whose mean reaches the target {fmt.score(threshold)}"
        if simplest:
            text = f"picked {fmt.entry(chosen)}: {SIMPLEST}, and its mean reaches the target {fmt.score(threshold)}"
        if not same:
            text += f"; the best is {fmt.entry(best)}{fewer_parameters(chosen, best)}"
        return text


class ToleranceRule(Rule):
    """``tolerance=E``: within E of the best config's mean."""

    def threshold(self, best: pd.Series) -> float:
        best_mean, _ = _best_mean_and_se(best)
        return best_mean - float(self.value)  # type: ignore[arg-type]

    def _explain_choice(self, chosen: pd.Series, best: pd.Series, fmt: Fmt, threshold: float,
                        paired: dict[str, float] | None, *, same: bool, simplest: bool) -> str:
        tol = fmt.spread(float(self.value)) + (" points" if fmt.percent else "")  # type: ignore[arg-type]
        if same:
            return f"picked {fmt.entry(chosen)}: it has the best mean, and no simpler config comes within {tol} of it"
        return f"picked {fmt.entry(chosen)}, within the tolerance {tol} of the best, {fmt.entry(best)}{fewer_parameters(chosen, best)}"


_RULE_CLASSES: dict[str, type[Rule]] = {
    "one-se": OneSERule,
    "target": TargetRule,
    "tolerance": ToleranceRule,
}


def parse_rule(text: str | Rule) -> Rule:
    """``"one-se"`` (``"paired-se"`` is read as it) | ``"target=0.95"`` (or ``95%``) | ``"tolerance=0.01"`` -> ``Rule``.

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

