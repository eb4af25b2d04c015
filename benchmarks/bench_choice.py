"""The choice itself: how far justenough's pick is from the best config, on data of known truth (issue 24).

    OMP_NUM_THREADS=1 python benchmarks/bench_choice.py [--quick | --smoke] [--cases a,b,c] [--workers 2]
        [--test-rows 20000] [--label-noise 0.1] [--target-noise 0.5]

Runs against whichever ``justenough`` is importable (``PYTHONPATH=/path/to/src``). Nothing is
downloaded: every table comes from a random teacher network and fixed NumPy seeds.

The data. A teacher is an MLP of known depth (0-2 hidden layers) and width (4-64 units), tanh or
relu, on 8 standard-normal features, with random normal weights rescaled unit by unit on a
reference sample of its own seed: each hidden unit's pre-activation has standard deviation 1 and a
mean drawn from N(0, 0.5^2) (so tanh units are neither flat nor saturated and relu units are
neither dead nor linear), and each output has mean 0 and standard deviation 1. Classification
(3 classes): the label is the argmax of the teacher's logits, then a fraction of the rows
(``--label-noise``, default 10%, exactly that many rows chosen at random) get a random other
label, so the best possible accuracy is about 90%. Regression: the target is the teacher's output
plus Gaussian noise of standard deviation ``--target-noise`` (default 0.5, a best possible R^2 of
about 0.8). A case is a teacher, a task and a row count (200, 1000 or 4000 training+validation
rows); the teacher is the same at every row count, its rows are drawn afresh for each.

Each case. The rows are split 75/25 into train and validation (the default 60/20 of a table, the
test set apart) and a fresh test table of a quarter as many rows is drawn; ``justenough.search``
runs with the default recipe on them (the training rows, ``val=`` and ``test=`` as separate tables,
nothing else passed but ``workers``, ``report=False`` and a temporary ``out`` directory so that
every restart's best weights are kept). Where the search's ``cv`` would fold the rows (``cv`` auto
below ``CV_AUTO_ROWS`` rows: the 200-row cases), it gets the training and validation rows pooled
instead, and validates by its own folds; a config's kept weights are then its first fold's. Then every config of the leaderboard is scored on a large
fresh test set from the same teacher (``--test-rows``, default 20,000 rows) from the weights the
search kept in ``OUT/weights`` (exact: the same weights the choice was made from), twice: as the
mean of its restarts that did not diverge (the model ``ensemble=True``, the default, returns; on
the folded 200-row cases the first fold's restarts, where the search returns the chosen config's
restarts refit on all the rows) and as its best restart by validation score (the model of
``ensemble=False``). The case is judged as the model the search returns, the other measure kept
beside it (``best_restart_...`` or ``ensemble_...``). The chosen config's model itself, refit
where the search refits, is scored too, as ``refit_score``. Scores are accuracy or R^2, and a
config's large-test SE is the standard error of the mean of its per-row shares of the score (the
noise model's shares, ``select/noise.py``: a row's 0/1 correctness, or ``1 - e_i / var(y)``).

The measures, per case:

- the oracle: the config whose model (as judged) scores highest on the large test set;
- ``regret_points``: the oracle's large-test score minus the chosen config's (the same measure,
  the same weights), x100, so 0 when the choice is the oracle and never below 0;
- ``enough``: the smallest config (fewest parameters, then the leaderboard's order) within noise
  of the oracle, which is: a large-test score at least the oracle's minus ``max(SE, 0.5 points)``,
  SE being the oracle's large-test SE (about 0.2-0.4 points on 20,000 rows, so the 0.5 points
  usually decides);
- ``oversize``: the choice has more parameters than ``enough``;
- ``short``: the choice is not within noise of the oracle (too small or otherwise worse);
- ``params_ratio``: the choice's parameters over ``enough``'s (an oversize choice of 161
  parameters against 153 is not one of 5,000 against 153).

It prints one line per case and its last line is one JSON object: ``median_regret_points``,
``p90_regret_points`` (the 90th percentile over cases, linear interpolation), ``oversize_rate``,
``short_rate`` (fractions of cases), ``median_params_ratio``, the first four again for the other
measure (``best_restart_median_regret_points``, ...), ``cases`` (their names) and ``rows`` (per
case: the teacher, rows, ``model`` (what was judged), choice, oracle, enough, scores and seconds).

``--quick`` runs a representative subset: both tasks, a linear, a one-layer and a two-layer
teacher at 200 and 1000 rows, the one-layer one at 4000 too (14 of the 42 cases). ``--smoke``
runs one tiny case with a tiny space and few epochs in seconds (the test suite's run, not a
measurement). ``OMP_NUM_THREADS`` is 1 unless set: the searches' worker processes are the
parallelism.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

N_FEATURES = 8
N_CLASSES = 3
TEST_ROWS = 20_000
LABEL_NOISE = 0.1
TARGET_NOISE = 0.5
# Within noise of the oracle: at most max(its large-test SE, this) below it (a fraction, 0.5 points).
NOISE_FLOOR = 0.005
TRAIN_SHARE = 0.75  # of the training+validation rows; the rest validates
ROW_COUNTS = (200, 1000, 4000)
# (name, depth, width, activation): width 0 for the linear teacher.
TEACHERS = (
    ("linear", 0, 0, "relu"),
    ("1x4-tanh", 1, 4, "tanh"),
    ("1x16-relu", 1, 16, "relu"),
    ("1x64-tanh", 1, 64, "tanh"),
    ("2x8-relu", 2, 8, "relu"),
    ("2x32-tanh", 2, 32, "tanh"),
    ("2x64-relu", 2, 64, "relu"),
)
TASKS = ("classification", "regression")
TASK_SHORT = {"classification": "class", "regression": "regr"}  # in case names
# --quick: three teachers (linear, one layer, two layers) at 200 and 1000 rows, the one-layer one
# also at 4000, both tasks (14 cases, about 5 minutes on a loaded 2-core machine).
QUICK_TEACHERS = ("linear", "1x16-relu", "2x32-tanh")
QUICK_ROWS = (200, 1000)
QUICK_LARGE = ("1x16-relu",)
# The smoke run: one tiny case, a tiny space and few epochs (seconds, for the test suite).
SMOKE_SEARCH = {"depth": "0-1", "widths": "4,8", "n_init": 2, "max_epochs": 5}
SMOKE_TEST_ROWS = 2000


class BenchError(Exception):
    """Bad command-line input: the message says what is wrong and how to fix it (exit 2)."""


# --- the teachers and their data -----------------------------------------------------------------


@dataclass(frozen=True)
class Teacher:
    """A fixed random MLP: ``layers`` is ``[(W [fan_in, fan_out], b [fan_out]), ...]``, the last one
    the output layer (``N_CLASSES`` logits, or one regression output)."""

    task: str
    depth: int
    width: int
    activation: str
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """The noise-free outputs ``[N, n_out]``."""
        h = X
        for i, (W, b) in enumerate(self.layers):
            h = h @ W + b
            if i < len(self.layers) - 1:
                h = _activate(h, self.activation)
        return h


def _activate(h: np.ndarray, activation: str) -> np.ndarray:
    if activation == "tanh":
        return np.tanh(h)
    if activation == "relu":
        return np.maximum(h, 0.0)
    raise ValueError(f"unknown teacher activation {activation!r}: tanh or relu")


def make_teacher(seed: int, *, task: str, depth: int, width: int, activation: str,
                 n_features: int = N_FEATURES, n_classes: int = N_CLASSES) -> Teacher:
    """A teacher from ``seed`` alone: normal weights, rescaled on a reference sample of the same
    seed so that every hidden unit's pre-activation has sd 1 and a N(0, 0.5^2) mean, and every
    output mean 0 and sd 1 (the docstring says why)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}: {' or '.join(TASKS)}")
    if depth < 0 or (depth > 0 and width < 1):
        raise ValueError(f"a teacher needs depth >= 0 and, with hidden layers, width >= 1 (got {depth}, {width})")
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((4096, n_features))  # the reference sample
    layers = []
    n_out = n_classes if task == "classification" else 1
    for fan_out, hidden in [(width, True)] * depth + [(n_out, False)]:
        W = rng.standard_normal((h.shape[1], fan_out))
        pre = h @ W
        scale = pre.std(axis=0)
        scale[scale == 0] = 1.0  # a unit fed only by dead relus: constant either way
        W = W / scale
        shift = rng.normal(0.0, 0.5, size=fan_out) if hidden else np.zeros(fan_out)
        b = shift - pre.mean(axis=0) / scale
        layers.append((W, b))
        h = _activate(h @ W + b, activation) if hidden else h
    return Teacher(task=task, depth=depth, width=width if depth else 0, activation=activation, layers=tuple(layers))


def draw(teacher: Teacher, n: int, seed: int, *, label_noise: float = LABEL_NOISE,
         target_noise: float = TARGET_NOISE) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows ``(X [n, features], y [n])`` from ``teacher``, with its task's noise, by ``seed``."""
    rng = np.random.default_rng(seed)
    n_in = teacher.layers[0][0].shape[0]
    X = rng.standard_normal((n, n_in))
    out = teacher.outputs(X)
    if teacher.task == "regression":
        return X, out[:, 0] + rng.normal(0.0, target_noise, size=n)
    y = out.argmax(axis=1)
    n_classes = out.shape[1]
    flipped = rng.choice(n, size=int(round(label_noise * n)), replace=False)
    y[flipped] = (y[flipped] + rng.integers(1, n_classes, size=len(flipped))) % n_classes  # another class
    return X, y


def frame(X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    table["target"] = y
    return table


# --- the cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A teacher, a task and a row count, with the seeds of each table."""

    teacher: str
    task: str
    rows: int
    depth: int
    width: int
    activation: str

    @property
    def name(self) -> str:
        return f"{TASK_SHORT[self.task]}-{self.teacher}-{self.rows}"

    @property
    def teacher_seed(self) -> int:
        """The same teacher at every row count."""
        return 1000 * ([t[0] for t in TEACHERS].index(self.teacher) + 1) + TASKS.index(self.task)

    def table_seed(self, table: str) -> int:
        return self.teacher_seed * 100_000 + self.rows * 10 + ("fit", "test", "large").index(table)


def all_cases() -> list[Case]:
    return [Case(name, task, rows, depth, width, act)
            for task in TASKS for (name, depth, width, act) in TEACHERS for rows in ROW_COUNTS]


def chosen_cases(names: str | None, quick: bool, smoke: bool) -> list[Case]:
    cases = all_cases()
    if smoke:
        return [c for c in cases if c.name == "class-1x4-tanh-200"]
    if names:
        by_name = {c.name: c for c in cases}
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise BenchError(f"unknown case(s) {', '.join(unknown)}: the names are TASK-TEACHER-ROWS, "
                             f"for example {cases[0].name}; all of them: {', '.join(by_name)}")
        return [by_name[n] for n in wanted]
    if quick:
        return [c for c in cases if c.teacher in QUICK_TEACHERS and (c.rows in QUICK_ROWS or c.teacher in QUICK_LARGE)]
    return cases


# --- scoring every config on the large test set -------------------------------------------------


def share_of_rows(task: str, y_true: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Each row's share of the score (the noise model's): 0/1 correctness, or ``1 - e_i / var(y)``;
    their mean is the accuracy or the R^2."""
    if task == "classification":
        return (np.asarray(y_true) == np.asarray(predicted)).astype(np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    return 1.0 - (y_true - np.asarray(predicted, dtype=np.float64)) ** 2 / y_true.var()


def score_and_se(shares: np.ndarray) -> tuple[float, float]:
    return float(shares.mean()), float(shares.std(ddof=1) / np.sqrt(len(shares)))


def config_scores(result: Any, out: Path, X_large: np.ndarray, y_large: np.ndarray) -> pd.DataFrame:
    """One row per leaderboard config on the large test set, from the weights the search kept:
    ``key, label, params``; ``restart, score, se``: its best restart by validation score (ties: the
    lowest restart, as the search's own pick); ``ensemble_score, ensemble_se``: the mean of its
    restarts that did not diverge (``nets.ensemble.mean_prediction``, what ``ensemble=True``
    predicts with), NaN where every restart diverged."""
    import torch

    from justenough.nets.ensemble import mean_prediction
    from justenough.run.artifacts import build_module
    from justenough.study.weights import WeightsStore

    model = result.model
    task = model.task
    Z = torch.from_numpy(model.transform(frame(X_large, y_large).drop(columns=["target"])))
    store = WeightsStore(out)
    restarts = result.restarts[~result.restarts["diverged"].astype(bool)]
    encoder = model.target_encoder
    rows = []
    for _, cfg in result.leaderboard.iterrows():
        mine = restarts[restarts["key"] == cfg["key"]].sort_values(["val_score", "restart"], ascending=[False, True])
        base = {"key": cfg["key"], "label": str(cfg["label"]), "params": int(cfg["params"])}
        if mine.empty:  # every restart diverged: no weights to score
            rows.append({**base, "restart": -1, "score": float("nan"), "se": float("nan"),
                         "ensemble_score": float("nan"), "ensemble_se": float("nan")})
            continue
        states = store.of_config(str(cfg["key"]))
        missing = [int(r) for r in mine["restart"] if int(r) not in states]
        if missing:
            raise RuntimeError(f"no kept weights for config {cfg['label']} restart(s) {missing} in {out}/weights")
        widths = [int(w) for w in str(cfg["widths"]).split("-") if w] if not isinstance(cfg["widths"], list) \
            else list(cfg["widths"])
        # An embedded config's Sequential starts with its PeriodicEmbedding: its Linear layers are one further on.
        embedded = cfg.get("embed") == "periodic"
        outs = []  # [N, n_out] per restart, in ``mine``'s order (the best restart first)
        for restart in mine["restart"]:
            state = states[int(restart)]
            n_out = int(state[f"{int(embedded) + 2 * len(widths)}.weight"].shape[0])
            module = build_module({"n_in": int(Z.shape[1]), "widths": widths, "n_out": n_out,
                                   "activation": str(cfg["activation"]), **({"embed": "periodic"} if embedded else {})})
            module.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()})
            with torch.no_grad():
                outs.append(module.eval()(Z))
        with torch.no_grad():
            mean_out = mean_prediction(torch.stack(outs), task)  # [N, n_out]

        def scored(raw: np.ndarray) -> tuple[float, float]:
            predicted = encoder.decode(raw.argmax(axis=1)) if task == "classification" else encoder.decode(raw[:, 0])
            return score_and_se(share_of_rows(task, y_large, predicted))

        score, se = scored(outs[0].numpy())
        ensemble_score, ensemble_se = scored(mean_out.numpy())
        rows.append({**base, "restart": int(mine.iloc[0]["restart"]), "score": score, "se": se,
                     "ensemble_score": ensemble_score, "ensemble_se": ensemble_se})
    return pd.DataFrame(rows)


def judge(table: pd.DataFrame, chosen_key: str, *, floor: float = NOISE_FLOOR) -> dict[str, Any]:
    """The choice against the oracle, from ``table`` (``key, label, params, score, se``, one row per
    config in the leaderboard's order): regret in points, the smallest config within noise of the
    oracle (``enough``), and whether the choice is larger than it (``oversize``) or not within
    noise (``short``)."""
    scored = table[np.isfinite(table["score"])].reset_index(drop=True)
    oracle = scored.loc[scored["score"].idxmax()]
    chosen = table[table["key"] == chosen_key].iloc[0]
    tolerance = max(float(oracle["se"]), floor)
    within = scored[scored["score"] >= float(oracle["score"]) - tolerance]
    # The smallest by parameters; among equals, the first in the table's (the leaderboard's) order.
    enough = within.loc[within["params"].idxmin()]
    chosen_within = bool(np.isfinite(chosen["score"]) and chosen["score"] >= float(oracle["score"]) - tolerance)
    return {
        "chosen": str(chosen["label"]), "chosen_params": int(chosen["params"]), "chosen_score": float(chosen["score"]),
        "oracle": str(oracle["label"]), "oracle_params": int(oracle["params"]), "oracle_score": float(oracle["score"]),
        "oracle_se": float(oracle["se"]), "tolerance_points": 100.0 * tolerance,
        "enough": str(enough["label"]), "enough_params": int(enough["params"]),
        "regret_points": 100.0 * (float(oracle["score"]) - float(chosen["score"])),
        "oversize": bool(int(chosen["params"]) > int(enough["params"])),
        "short": not chosen_within,
        "params_ratio": int(chosen["params"]) / int(enough["params"]),
    }


# What a case row also keeps of the measure it is not judged by (``best_restart_...`` or ``ensemble_...``).
OTHER_MEASURES = ("chosen_score", "oracle", "oracle_score", "enough", "regret_points", "oversize", "short")


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON line: median and 90th percentile regret, oversize and short rates, and the rows;
    the same three for the other measure (``best_restart_`` or ``ensemble_``) where the rows have it."""
    def measures(prefix: str) -> dict[str, float]:
        regrets = [r[f"{prefix}regret_points"] for r in rows]
        return {f"{prefix}median_regret_points": statistics.median(regrets),
                f"{prefix}p90_regret_points": float(np.percentile(regrets, 90)),
                f"{prefix}oversize_rate": sum(r[f"{prefix}oversize"] for r in rows) / len(rows),
                f"{prefix}short_rate": sum(r[f"{prefix}short"] for r in rows) / len(rows)}

    others = [p for p in ("best_restart_", "ensemble_") if all(f"{p}regret_points" in r for r in rows)]
    return {
        **measures(""),
        "median_params_ratio": statistics.median(r["params_ratio"] for r in rows),
        **{k: v for p in others for k, v in measures(p).items()},
        "cases": [r["case"] for r in rows],
        "rows": rows,
    }


# --- one case -----------------------------------------------------------------------------------


@dataclass
class Options:
    workers: int = 2
    test_rows: int = TEST_ROWS
    label_noise: float = LABEL_NOISE
    target_noise: float = TARGET_NOISE
    search: dict[str, Any] = field(default_factory=dict)  # beyond the default recipe (the smoke run's)


def folds_apply(n_rows: int, search_options: dict[str, Any]) -> bool:
    """Whether the search validates by its own folds (``cv`` auto below ``CV_AUTO_ROWS`` rows, or a
    ``cv`` of 2 or more given): then it gets the rows pooled, not our ``val=`` (with which it would
    validate by that one split)."""
    cv = search_options.get("cv", "auto")
    if str(cv).lower() == "auto":
        try:
            from justenough.settings import CV_AUTO_ROWS
        except ImportError:  # a version without cross-validation
            return False
        return n_rows < CV_AUTO_ROWS
    return str(cv).isdigit() and int(cv) > 1


def run_case(case: Case, options: Options) -> dict[str, Any]:
    from justenough import search

    teacher = make_teacher(case.teacher_seed, task=case.task, depth=case.depth, width=case.width,
                           activation=case.activation)
    noise = {"label_noise": options.label_noise, "target_noise": options.target_noise}
    X, y = draw(teacher, case.rows, case.table_seed("fit"), **noise)
    X_test, y_test = draw(teacher, max(case.rows // 4, 10), case.table_seed("test"), **noise)
    X_large, y_large = draw(teacher, options.test_rows, case.table_seed("large"), **noise)
    n_train = int(round(TRAIN_SHARE * case.rows))
    with tempfile.TemporaryDirectory(prefix="bench_choice_") as tmp:
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        common = {"target": "target", "task": case.task, "test": frame(X_test, y_test), "workers": options.workers,
                  "report": False, "out": out, **options.search}
        if folds_apply(case.rows, options.search):
            # Cross-validation: the rows pooled, dealt into folds by justenough (as the quality suite does).
            result = search(frame(X, y), **common)
        else:
            result = search(frame(X[:n_train], y[:n_train]), val=frame(X[n_train:], y[n_train:]), **common)
        seconds = time.perf_counter() - t0
        table = config_scores(result, out, X_large, y_large)
    # Judged as the model the search returns: the mean of the restarts (``ensemble``, the default),
    # or one network, its best restart; the other measure is kept beside it, prefixed.
    ensemble = bool(result.summary.get("ensemble"))
    single = judge(table, str(result.chosen["key"]))
    as_ensemble = judge(table.assign(score=table["ensemble_score"], se=table["ensemble_se"]), str(result.chosen["key"]))
    verdict, other, other_name = (as_ensemble, single, "best_restart") if ensemble else (single, as_ensemble, "ensemble")
    refit_predicted = result.model.predict(frame(X_large, y_large).drop(columns=["target"]))
    refit_score, _ = score_and_se(share_of_rows(case.task, y_large, refit_predicted))
    return {
        "case": case.name, "task": case.task, "teacher": case.teacher, "rows": case.rows,
        "model": "ensemble" if ensemble else "best restart",
        **verdict,
        **{f"{other_name}_{k}": other[k] for k in OTHER_MEASURES},
        "refit_score": refit_score, "test_score": float(result.test_score),
        "configs": len(table), "seconds": seconds,
    }


def print_row(row: dict[str, Any]) -> None:
    flags = ("oversize" if row["oversize"] else "") + (" short" if row["short"] else "")
    print(f"{row['case']:<26} chose {row['chosen']:>6} ({row['chosen_params']:>6} p) {100 * row['chosen_score']:6.2f}  "
          f"oracle {row['oracle']:>6} {100 * row['oracle_score']:6.2f}  enough {row['enough']:>6} "
          f"({row['enough_params']:>6} p)  regret {row['regret_points']:5.2f}  refit {100 * row['refit_score']:6.2f}  "
          f"[{_other_text(row)}]  "
          f"{row['seconds']:6.1f} s  {flags.strip()}")
    sys.stdout.flush()


def _other_text(row: dict[str, Any]) -> str:
    """The other measure in brief: ``best restart: 1x16 regret 0.40``."""
    for prefix, name in (("best_restart_", "best restart"), ("ensemble_", "ensemble")):
        if f"{prefix}regret_points" in row:
            return f"{name}: oracle {row[prefix + 'oracle']} regret {row[prefix + 'regret_points']:.2f}"
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a representative subset (both tasks, every row count)")
    parser.add_argument("--smoke", action="store_true", help="one tiny case in seconds (the test suite's run)")
    parser.add_argument("--cases", help="comma-separated case names, TASK-TEACHER-ROWS (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="processes for each search (default 2)")
    parser.add_argument("--test-rows", type=int, default=None, help=f"rows of the large test set (default {TEST_ROWS:,})")
    parser.add_argument("--label-noise", type=float, default=LABEL_NOISE, help="fraction of labels flipped (default 0.1)")
    parser.add_argument("--target-noise", type=float, default=TARGET_NOISE,
                        help="sd of the regression noise, the teacher's output having sd 1 (default 0.5)")
    parser.add_argument("--judge-restarts", action="store_true",
                        help="the rule compares the configs' restarts, not their ensembles (search(judge_ensembles=False); "
                             "the default judges the model the search returns)")
    args = parser.parse_args(argv)
    try:
        if args.quick and args.smoke:
            raise BenchError("--quick and --smoke are two different runs: pass one of them")
        if not 0.0 <= args.label_noise < 1.0 or args.target_noise < 0.0:
            raise BenchError("--label-noise is a fraction in [0, 1) and --target-noise a standard deviation >= 0")
        if args.test_rows is not None and args.test_rows < 100:
            raise BenchError(f"--test-rows {args.test_rows} is too few to judge a choice: pass 100 or more")
        cases = chosen_cases(args.cases, args.quick, args.smoke)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    options = Options(workers=args.workers, label_noise=args.label_noise, target_noise=args.target_noise,
                      test_rows=args.test_rows or (SMOKE_TEST_ROWS if args.smoke else TEST_ROWS),
                      search={**(SMOKE_SEARCH if args.smoke else {}),
                              **({"judge_ensembles": False} if args.judge_restarts else {})})
    recipe = "the smoke space " + json.dumps(SMOKE_SEARCH) if args.smoke else "default recipe"
    recipe += ", the configs judged by their restarts" if args.judge_restarts else ""
    print(f"the choice against the oracle: {len(cases)} cases, {recipe}, {args.workers} worker processes, "
          f"large test {options.test_rows:,} rows, label noise {options.label_noise:g}, target noise "
          f"{options.target_noise:g}")
    rows = []
    for case in cases:
        row = run_case(case, options)
        rows.append(row)
        print_row(row)
    print(json.dumps(summarize(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
