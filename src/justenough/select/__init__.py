"""Choosing the just-enough config, and the statistics of restarts.

- ``stats``: the leaderboard (one row per config) from the restarts table (one row per restart),
  ``p_good``, ``restarts_for_95`` and the paired comparison of two configs;
- ``order``: which config is simpler, which is best, and ``best_first``, the one row order of
  every leaderboard shown or written;
- ``noise``: the noise model: the SE of a score and of a paired difference, over validation rows
  and restarts (``score_noise``, ``difference_noise``, ``with_noise`` for the leaderboard);
- ``ensemble_noise``: the same for configs judged as their ensembles of restarts (the default
  model): each config's ensemble scored row by row, the restarts' part by the jackknife;
- ``rules``: one class per rule (``one-se``, ``target``, ``tolerance``), each
  saying which configs qualify and why the choice was made; ``parse_rule``;
- ``choice``: ``choose``, the wiring of limits, rule and explanation, and ``paired_evidence``;
- ``explain``: the prose (scores as people read them, paired differences);
- ``baseline``: the no-network baseline the choice is compared with.
"""

from __future__ import annotations

from justenough.select.choice import Choice, choose, paired_evidence
from justenough.select.explain import describe_paired, format_difference
from justenough.select.noise import Noise, RowEvidence, difference_noise, paired_noise, score_noise, with_noise
from justenough.select.order import best_first
from justenough.select.rules import (
    RULES,
    Candidates,
    OneSERule,
    Rule,
    TargetRule,
    ToleranceRule,
    parse_rule,
)
from justenough.select.stats import (
    DEFAULT_GOOD_TOLERANCE,
    leaderboard,
    p_good,
    paired_difference,
    paired_scores,
    restarts_for_95,
)

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
    "OneSERule",
    "TargetRule",
    "ToleranceRule",
    "Candidates",
    "Noise",
    "RowEvidence",
    "score_noise",
    "difference_noise",
    "paired_noise",
    "with_noise",
]
