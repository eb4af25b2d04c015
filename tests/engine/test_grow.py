"""The grow strategy's decisions (grow.py) on hand-made results: no training here.

Each test writes the restarts table a search would have (``key``, ``restart``, ``val_score``,
``diverged``) for a small space, replays the walk on it, and checks what it trains next, the path
and the stops. Scores are built as ``level + restart noise`` where the noise of restart k is the
same for every config (seed stream k), so paired differences are exact and their SEs are known.
"""

from __future__ import annotations

import math
from typing import Callable

import pandas as pd
import pytest

from justenough.errors import ConfigError
from justenough.engine.strategies.grow import explain, node_label, node_of, summary, walk
from justenough.space.config import Config
from justenough.space.search_space import Space

N_IN, N_OUT = 2, 2
N_RESTARTS = 5
# Restart k's shared luck, and a small config-specific wobble per restart (so paired SEs are > 0).
SHARED = [0.00, 0.02, -0.01, 0.03, -0.02]
WOBBLE = [0.001, -0.001, 0.002, -0.002, 0.0]

SPACE = Space.from_options(depth="0-3", widths="4,8,16,32", max_epochs=5, embed="none")
CONFIGS = SPACE.configs()


def _table(levels: dict[str, float], trained: set[str] | None = None) -> pd.DataFrame:
    """The restarts of every config whose label is in ``trained`` (default: all), at ``levels[label]``."""
    rows = []
    for cfg in CONFIGS:
        if trained is not None and cfg.label not in trained:
            continue
        for k in range(N_RESTARTS):
            rows.append({"key": cfg.key, "restart": k, "val_score": levels[cfg.label] + SHARED[k] + WOBBLE[k], "diverged": False})
    return pd.DataFrame(rows)


def _run_to_the_end(level: Callable[[Config], float], **kwargs) -> tuple[list[str], object]:
    """Play the whole walk as a search would: train what it asks for, replay, until done.
    Returns the labels in the order trained and the final walk."""
    levels = {c.label: level(c) for c in CONFIGS}
    trained: list[str] = []
    for _ in range(100):
        w = walk(CONFIGS, _table(levels, set(trained)), n_in=N_IN, n_out=N_OUT, **kwargs)
        if w.done:
            return trained, w
        new = [c.label for c in w.pending]
        assert not set(new) & set(trained), "the walk asked for a config it already has"
        trained += new
    raise AssertionError("the walk did not finish")


def test_it_starts_at_the_linear_model_then_grows_one_layer_at_the_smallest_width():
    w = walk(CONFIGS, pd.DataFrame(), n_in=N_IN, n_out=N_OUT)
    assert [c.label for c in w.pending] == ["linear"] and w.path == []
    levels = {c.label: 0.5 for c in CONFIGS}
    w = walk(CONFIGS, _table(levels, {"linear"}), n_in=N_IN, n_out=N_OUT)
    assert [c.label for c in w.pending] == ["1x4"]  # from depth 0 only depth grows


def test_without_depth_0_it_starts_at_depth_1_and_the_smallest_width():
    space = Space.from_options(depth="1-2", widths="16,4,8", max_epochs=5, embed="none")
    w = walk(space.configs(), pd.DataFrame(), n_in=N_IN, n_out=N_OUT)
    assert [c.label for c in w.pending] == ["1x4"]


def test_a_direction_stops_after_k_steps_that_do_not_beat_the_best():
    # A hidden layer pays (+40 points); nothing beyond 1x4 does (the same level, differences are
    # only the wobble, well inside one SE).
    trained, w = _run_to_the_end(lambda c: 0.5 if c.depth == 0 else 0.9)
    assert trained == ["linear", "1x4", "1x8", "2x4", "1x16", "3x4"]
    assert w.best == (1, 4)
    assert "2 steps were confidently no better than 1x4" in w.stops["width"]
    assert "2 steps were confidently no better than 1x4" in w.stops["depth"]
    text = explain(w, percent=True)
    assert text.startswith("growth stopped at 1x4")
    assert "1x8 did not beat 1x4" in text and "nor did 1x16" in text and "points paired" in text


def test_patience_is_the_number_of_failed_steps():
    trained, _ = _run_to_the_end(lambda c: 0.5 if c.depth == 0 else 0.9, patience=1)
    assert trained == ["linear", "1x4", "1x8", "2x4"]
    trained, _ = _run_to_the_end(lambda c: 0.5 if c.depth == 0 else 0.9, patience=3)
    assert trained == ["linear", "1x4", "1x8", "2x4", "1x16", "3x4", "1x32"]  # depth 0-3: no 4x4


def test_it_keeps_growing_while_it_pays():
    # Every doubling of the width gains 5 points, far beyond one paired SE; depth never pays.
    widths = [4, 8, 16, 32]
    trained, w = _run_to_the_end(lambda c: 0.5 if c.depth == 0 else 0.7 + 0.05 * widths.index(c.widths[0]) - 0.01 * (c.depth - 1))
    assert w.best == (1, 32)
    assert trained[:5] == ["linear", "1x4", "1x8", "2x4", "1x16"]
    assert "1x32" in trained and "4x32" not in trained
    assert "the space has no wider config" in w.stops["width"]
    beats = [node_label(s.node) for s in w.path if s.beat]
    assert beats == ["linear", "1x4", "1x8", "1x16", "1x32"]
    assert len(trained) < len(CONFIGS)


def test_a_step_must_beat_the_best_by_more_than_one_paired_se():
    # 1x8 is 0.02 points better on average, but its paired differences swing by 0.3 points.
    levels = {c.label: (0.5 if c.depth == 0 else 0.9) for c in CONFIGS}
    table = _table(levels, {"linear", "1x4", "1x8", "2x4"})
    diffs = [0.004, -0.003, 0.002, -0.003, 0.001]  # mean 0.0002, SE 0.0014
    mask = table["key"] == next(c.key for c in CONFIGS if c.label == "1x8")
    table.loc[mask, "val_score"] = table.loc[mask, "val_score"].to_numpy() + diffs
    w = walk(CONFIGS, table, n_in=N_IN, n_out=N_OUT)
    step = next(s for s in w.path if node_label(s.node) == "1x8")
    mean = sum(diffs) / N_RESTARTS
    se = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (N_RESTARTS - 1) / N_RESTARTS)
    assert step.mean_diff == pytest.approx(mean) and step.se_diff == pytest.approx(se)
    assert not step.beat and w.best == (1, 4)
    # Make the gain clear (a full point on every restart): now it beats 1x4 and becomes the best.
    table.loc[mask, "val_score"] += 0.01
    w = walk(CONFIGS, table, n_in=N_IN, n_out=N_OUT)
    assert next(s for s in w.path if node_label(s.node) == "1x8").beat and w.best == (1, 8)


def test_max_params_stops_a_direction_before_the_config_that_exceeds_it():
    cap = next(c for c in CONFIGS if c.label == "1x16").params(N_IN, N_OUT)
    widths = [4, 8, 16, 32]
    trained, w = _run_to_the_end(lambda c: 0.5 if c.depth == 0 else 0.7 + 0.05 * widths.index(c.widths[0]),
                                 max_params=cap)
    assert all(c.params(N_IN, N_OUT) <= cap for c in CONFIGS if c.label in trained)
    assert "1x32" not in trained
    assert "max_params" in w.stops["width"]


def test_max_params_counts_an_ensembles_networks_as_the_choice_does():
    # With the model an ensemble of 3 restarts, 1x16 costs 3 x its network: a cap that one 1x16 meets
    # stops the width direction before it, and the reason says why.
    one = next(c for c in CONFIGS if c.label == "1x16").params(N_IN, N_OUT)
    widths = [4, 8, 16, 32]
    level = lambda c: 0.5 if c.depth == 0 else 0.7 + 0.05 * widths.index(c.widths[0])  # noqa: E731
    alone, _ = _run_to_the_end(level, max_params=one)
    assert "1x16" in alone
    trained, w = _run_to_the_end(level, max_params=one, members=3)
    assert "1x16" not in trained and all(3 * c.params(N_IN, N_OUT) <= one for c in CONFIGS if c.label in trained)
    assert f"max_params={one} parameters as an ensemble of 3 restarts" in w.stops["width"]


def test_the_walk_is_a_function_of_the_results_alone():
    levels = {c.label: (0.5 if c.depth == 0 else 0.8 + 0.01 * c.depth) for c in CONFIGS}
    table = _table(levels, {"linear", "1x4", "1x8", "2x4"})
    a = walk(CONFIGS, table, n_in=N_IN, n_out=N_OUT)
    b = walk(CONFIGS, table.sample(frac=1.0, random_state=3).reset_index(drop=True), n_in=N_IN, n_out=N_OUT)
    assert [s.recorded() for s in a.path] == [s.recorded() for s in b.path]
    assert [c.key for c in a.pending] == [c.key for c in b.pending]


def test_untrained_configs_are_listed_as_not_needed_with_the_reason():
    trained, w = _run_to_the_end(lambda c: 0.5 if c.depth == 0 else 0.9)
    s = summary(w, CONFIGS, percent=True)
    assert {n.config for n in s.not_needed} == {c.label for c in CONFIGS} - set(trained)
    assert all("growth stopped at 1x4" in n.reason for n in s.not_needed)
    assert [p.config for p in s.path] == trained
    assert s.complete and s.best == "1x4"


def test_diverged_restarts_are_left_out_of_the_pairs():
    levels = {c.label: (0.5 if c.depth == 0 else 0.9) for c in CONFIGS}
    table = _table(levels, {"linear", "1x4"})
    key = next(c.key for c in CONFIGS if c.label == "1x4")
    table.loc[(table["key"] == key) & (table["restart"] == 0), ["val_score", "diverged"]] = [math.nan, True]
    w = walk(CONFIGS, table, n_in=N_IN, n_out=N_OUT)
    assert w.path[1].n_pairs == N_RESTARTS - 1 and w.path[1].beat


def test_patience_below_one_is_refused():
    with pytest.raises(ConfigError, match="grow_patience"):
        walk(CONFIGS, pd.DataFrame(), n_in=N_IN, n_out=N_OUT, patience=0)


def test_nodes_group_the_configs_of_one_depth_and_width():
    space = Space.from_options(depth="1", widths="8", lr="1e-3,1e-2", max_epochs=5, embed="none")
    w = walk(space.configs(), pd.DataFrame(), n_in=N_IN, n_out=N_OUT)
    assert len(w.pending) == 2 and {node_of(c) for c in w.pending} == {(1, 8)}


def test_a_search_stopped_early_says_so_for_every_config_not_reached():
    levels = {c.label: (0.5 if c.depth == 0 else 0.9) for c in CONFIGS}
    w = walk(CONFIGS, _table(levels, {"linear", "1x4"}), n_in=N_IN, n_out=N_OUT)
    assert not w.done
    s = summary(w, CONFIGS, percent=True, stop_reason="time budget")
    assert not s.complete and "the search stopped early: time budget" in s.explanation
    assert {n.config for n in s.not_needed} == {c.label for c in CONFIGS} - {"linear", "1x4"}
    assert all("time budget" in n.reason for n in s.not_needed)


def test_from_the_linear_model_width_grows_the_first_hidden_layer():
    # No hidden layer pays at the smallest width, but a wider one does: growth must not stop at the
    # linear model after 1x4 and 2x4 fail (it did when width had no step from depth 0).
    trained, w = _run_to_the_end(lambda c: 0.9 if c.depth == 1 and c.widths[0] >= 8 else 0.5)
    assert trained[:4] == ["linear", "1x4", "1x8", "2x4"]  # 1x4 is both directions' first step, trained once
    assert w.best == (1, 8)
    nodes = [node_label(s.node) for s in w.path]
    assert len(nodes) == len(set(nodes))  # one step per node, though two directions proposed 1x4
    # When nothing pays, the walk stops at the linear model after patience steps of each direction.
    trained, w = _run_to_the_end(lambda c: 0.5)
    assert trained == ["linear", "1x4", "1x8", "2x4"] and w.best == (0, 0)
    assert "2 steps were confidently no better than linear" in w.stops["width"]
    assert "2 steps were confidently no better than linear" in w.stops["depth"]


def _evidence(gain_rows: int) -> dict[str, dict[int, "object"]]:
    """Per-row shares over 200 validation rows: the linear model gets 80 rows fewer right than 1x4;
    every other config gets ``gain_rows`` rows more right than 1x4 on restarts 0 and 1."""
    import numpy as np

    base = (np.random.default_rng(0).random(200) < 0.8).astype(np.float32)
    wrong = np.flatnonzero(base == 0)
    out: dict[str, dict[int, object]] = {}
    for cfg in CONFIGS:
        by_restart = {}
        for k in range(N_RESTARTS):
            x = base.copy()
            if cfg.depth == 0:
                x[np.flatnonzero(base == 1)[:80]] = 0.0
            elif cfg.label != "1x4" and k < 2:
                x[wrong[:gain_rows]] = 1.0
            by_restart[k] = x
        out[cfg.key] = by_restart
    return out


def test_an_undecided_step_does_not_stop_a_direction():
    # Beyond 1x4 every config is a little better on two restarts of five: a gain within the noise of
    # 200 rows (not confidently large, nor confidently small). The restarts' table alone says the
    # levels are equal (SE 0), so it stops after 2 steps; the rows say "undecided", so each direction
    # goes on to the edge of the space.
    levels = {c.label: (0.5 if c.depth == 0 else 0.9) for c in CONFIGS}
    evidence = _evidence(gain_rows=1)
    trained: list[str] = []
    for _ in range(100):
        w = walk(CONFIGS, _table(levels, set(trained)), n_in=N_IN, n_out=N_OUT, evidence=evidence)
        if w.done:
            break
        trained += [c.label for c in w.pending]
    assert w.best == (1, 4)
    assert {"1x32", "3x4"} <= set(trained)
    assert "no wider config" in w.stops["width"] and "no deeper config" in w.stops["depth"]
    undecided = [s for s in w.path if s.direction != "start" and not s.beat and not s.failed]
    assert undecided and all(0 < s.mean_diff <= s.band for s in undecided)


def test_a_confident_gain_on_the_rows_beats_the_best():
    # 30 rows more right, on 2 restarts of 5: far beyond the band of the paired difference.
    levels = {c.label: (0.5 if c.depth == 0 else 0.9) for c in CONFIGS}
    evidence = _evidence(gain_rows=30)
    trained = ["linear", "1x4"]
    w = walk(CONFIGS, _table(levels, set(trained)), n_in=N_IN, n_out=N_OUT, evidence=evidence)
    trained += [c.label for c in w.pending]
    w = walk(CONFIGS, _table(levels, set(trained)), n_in=N_IN, n_out=N_OUT, evidence=evidence)
    beaten = [s for s in w.path if s.round == 2]
    assert beaten and all(s.beat for s in beaten)


def test_judged_by_ensembles_the_round_s_winner_is_the_best_ensemble_not_the_best_restarts():
    # From 1x4 both next steps beat it. Their restarts say 1x8 is better (0.95 against 0.85), their
    # ensembles say 2x4 (90% of 400 rows right against 80%): the walk judges ensembles, so 2x4 wins.
    import numpy as np

    from justenough.select.ensemble_noise import EnsembleEvidence, EnsembleShares

    n = 400
    right = {"linear": 0.5, "1x4": 0.7, "1x8": 0.8, "2x4": 0.9}  # the ensembles' share of rows right

    def shares(p: float) -> EnsembleShares:
        full = (np.arange(n) < p * n).astype(np.float64)  # [N]: nested, so the pairs differ cleanly
        return EnsembleShares(full, {k: full for k in range(N_RESTARTS)})

    evidence = EnsembleEvidence({c.key: shares(right.get(c.label, 0.7)) for c in CONFIGS})
    levels = {c.label: 0.5 for c in CONFIGS} | {"1x4": 0.7, "1x8": 0.95, "2x4": 0.85}
    trained = ["linear", "1x4", "1x8", "2x4"]
    w = walk(CONFIGS, _table(levels, set(trained)), n_in=N_IN, n_out=N_OUT, evidence=evidence)
    assert [s.beat for s in w.path if s.round == 2] == [True, True]
    assert w.best == (2, 4)
