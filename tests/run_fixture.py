"""A small but complete, internally consistent run directory, computed for real.

``write_run(run_dir)`` trains a handful of tiny numpy MLPs (plain minibatch SGD with momentum,
softmax cross-entropy, He-normal init) on scikit-learn's digits over a few configs x restarts,
records the per-epoch learning curves and per-layer diagnostics they really produced, picks a
config with the one-SE rule, scores the chosen model once on the test split, times its latency,
and writes the files of the run directory (docs/architecture.md, "Run directory"):

    results.csv  leaderboard.csv  history.csv  diagnostics.csv  data.json  summary.json

Nothing is invented: every number in the files comes out of the training below. It takes about
a second or two on one core. Tests import it as ``from tests.run_fixture import write_run``.

The rows are the same on every machine: no outcome here hangs on a chaotic floating-point
trajectory. The one diverged restart diverges by construction (a blown-up start, see
``BLOWN_UP_BIAS``), the far-behind config is far behind because its learning rate is far too
small to learn much in 12 epochs (a smooth, stable outcome), and every other config trains with a
modest learning rate.

``hostile=True`` puts ``<script>alert(1)</script>`` into the data source, one column name, one
class label and one config label, so tests can check that the report escapes them.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from justenough.select import best_first

__all__ = ["HOSTILE", "FixtureConfig", "CONFIGS", "write_run"]

HOSTILE = "<script>alert(1)</script>"


@dataclass(frozen=True)
class FixtureConfig:
    """One tiny network design plus its training settings."""

    widths: tuple[int, ...]
    activation: str = "relu"
    lr: float = 0.05
    init: str = "he_normal"
    # Restarts that start blown up (BLOWN_UP_BIAS): they diverge in epoch 1 on any machine. Not
    # part of the config's key: it is what happened to a restart, not a design choice.
    blown_up: tuple[int, ...] = ()

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def key(self) -> str:
        blob = json.dumps({"w": self.widths, "a": self.activation, "lr": self.lr, "i": self.init}, sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:10]

    @property
    def label(self) -> str:
        return f"{'-'.join(map(str, self.widths))} {self.activation} lr={self.lr:g}"

    def params(self, n_in: int, n_out: int) -> int:
        dims = [n_in, *self.widths, n_out]
        return sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))

    def flops(self, n_in: int, n_out: int) -> int:
        dims = [n_in, *self.widths, n_out]
        return 2 * sum(a * b for a, b in zip(dims[:-1], dims[1:]))


# Depth 1..3 x width {8, 32}, a funnel, a tanh net, and one config far behind the rest: a
# learning rate far too small (its restarts reach roughly 30-55% where the others reach 88-97%),
# one of whose restarts starts blown up and diverges (divergence is a result, and the report must
# show it). Its surviving restarts keep its mean finite, so the report draws it "far below".
CONFIGS: tuple[FixtureConfig, ...] = (
    FixtureConfig((8,)),
    FixtureConfig((16,)),
    FixtureConfig((32,)),
    FixtureConfig((8, 8)),
    FixtureConfig((32, 32)),
    FixtureConfig((8, 8, 8)),
    FixtureConfig((32, 32, 32)),
    FixtureConfig((32, 16)),
    FixtureConfig((16,), activation="tanh", lr=0.05, init="xavier_normal"),
    FixtureConfig((8, 8, 8), activation="tanh", lr=1e-3, blown_up=(1,)),
)
N_RESTARTS = 3
EPOCHS = 12
BATCH = 64
MOMENTUM = 0.9
DIAG_EVERY = 4
# A loss ten times that of a uniform guess over 10 classes counts as blown up (diverged).
DIVERGED_LOSS = 10.0 * math.log(10.0)
# A blown-up start: the output bias of class 0 is set to this. Why it certainly diverges, on any
# CPU, BLAS and package versions: every other logit is a sum of 8 tanh outputs (each in [-1, 1])
# times weights of order 1, so class 0's logit exceeds every other by 1e200 minus a few units,
# which in float64 is 1e200 exactly. Every sample then predicts class 0, and each of the ~90% of
# validation samples of another class loses 1e200 (cross-entropy >= max logit - true logit), so
# the validation loss is about 9e199 > DIVERGED_LOSS. SGD cannot undo it within the 12 epochs:
# one step moves the bias by at most lr * 10 (|gradient| <= 1, momentum 0.9), which does not
# even change 1e200's float64 value. No chaotic trajectory is involved.
BLOWN_UP_BIAS = 1e200


def _act(name: str, z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0) if name == "relu" else np.tanh(z)


def _act_grad(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return (z > 0).astype(z.dtype) if name == "relu" else 1.0 - a * a


class _MLP:
    """A plain MLP in numpy: weights ``W[l]: [fan_in, fan_out]``, biases ``b[l]: [fan_out]``."""

    def __init__(self, cfg: FixtureConfig, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        dims = [n_in, *cfg.widths, n_out]
        gain = 2.0 if cfg.init == "he_normal" else 1.0
        self.act = cfg.activation
        self.W = []
        for a, b in zip(dims[:-1], dims[1:]):
            std = math.sqrt(gain / a) if cfg.init == "he_normal" else math.sqrt(2.0 / (a + b))
            self.W.append(rng.normal(0.0, std, size=(a, b)))
        self.b = [np.zeros(b) for b in dims[1:]]

    def forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations ``zs`` and activations ``hs`` (``hs[0]`` is the input, last is logits)."""
        hs, zs = [X], []
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = hs[-1] @ W + b  # [N, fan_out]
            zs.append(z)
            hs.append(z if i == len(self.W) - 1 else _act(self.act, z))
        return zs, hs

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """Mean softmax cross-entropy and its gradients by backpropagation (all layers at once)."""
        zs, hs = self.forward(X)
        logits = hs[-1]
        logits = logits - logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))  # [N, K] log-softmax
        p = np.exp(log_p)
        n = X.shape[0]
        loss = float(-log_p[np.arange(n), y].mean())
        d = p
        d[np.arange(n), y] -= 1.0
        d /= n  # dL/dlogits [N, K]
        gW: list[np.ndarray] = [np.empty(0)] * len(self.W)
        gb: list[np.ndarray] = [np.empty(0)] * len(self.W)
        for i in range(len(self.W) - 1, -1, -1):
            gW[i] = hs[i].T @ d  # [fan_in, fan_out]
            gb[i] = d.sum(axis=0)
            if i > 0:
                d = (d @ self.W[i].T) * _act_grad(self.act, zs[i - 1], hs[i])
        return loss, gW, gb

    def predict_logits(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X)[1][-1]


def _diagnostics(net: _MLP, prev: list[np.ndarray] | None, X: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
    """Per hidden layer: effective width, dead units, activation stats, gradient and update sizes."""
    _, hs = net.forward(X)
    _, gW, _ = net.loss_and_grads(X, y)
    rows = []
    for layer in range(len(net.W) - 1):
        h = hs[layer + 1]  # [N, width]
        alive = h.std(axis=0) > 1e-8
        if net.act == "relu":
            alive &= (h > 0).any(axis=0)
        cov = np.cov(h, rowvar=False) if h.shape[1] > 1 else np.atleast_2d(h.var())
        lam = np.clip(np.linalg.eigvalsh(np.atleast_2d(cov)), 0.0, None)
        # Participation ratio: 1 when one direction carries all variance, width when all do equally.
        eff = float(lam.sum() ** 2 / (lam**2).sum()) if (lam**2).sum() > 0 else 0.0
        W = net.W[layer]
        unit = W / np.clip(np.linalg.norm(W, axis=0, keepdims=True), 1e-12, None)
        cos = np.abs(unit.T @ unit)  # [width, width]
        np.fill_diagonal(cos, 0.0)
        update = float("nan") if prev is None else float(np.linalg.norm(W - prev[layer]) / np.linalg.norm(prev[layer]))
        rows.append(
            {
                "layer": layer + 1,  # 1-based hidden layer, as the diagnostics record it
                "effective_width": eff,
                "dead_fraction": float(1.0 - alive.mean()),
                "act_mean": float(h.mean()),
                "act_std": float(h.std()),
                "grad_norm": float(np.linalg.norm(gW[layer])),
                "update_ratio": update,
                "max_cosine": float(cos.max()) if cos.size > 1 else 0.0,
            }
        )
    return rows


def _train(
    cfg: FixtureConfig, restart: int, seed: int, data: dict[str, np.ndarray], n_out: int
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], _MLP | None]:
    """One restart: SGD with momentum, its own generator; keeps the best epoch by val loss."""
    rng = np.random.default_rng([seed, restart])
    Xtr, ytr, Xva, yva = data["X_train"], data["y_train"], data["X_val"], data["y_val"]
    net = _MLP(cfg, Xtr.shape[1], n_out, rng)
    if restart in cfg.blown_up:
        net.b[-1][0] = BLOWN_UP_BIAS  # diverges by construction (BLOWN_UP_BIAS)
    vel_W = [np.zeros_like(W) for W in net.W]
    vel_b = [np.zeros_like(b) for b in net.b]
    history: list[dict[str, Any]] = []
    diags = [{"epoch": 0, **r} for r in _diagnostics(net, None, Xva, yva)]
    best: tuple[float, float, int, list[np.ndarray], list[np.ndarray]] | None = None
    diverged = False
    t0 = time.perf_counter()
    epoch = 0
    with np.errstate(all="ignore"):
        for epoch in range(1, EPOCHS + 1):
            prev = [W.copy() for W in net.W]
            order = rng.permutation(len(Xtr))
            losses = []
            for s in range(0, len(order), BATCH):
                idx = order[s : s + BATCH]
                loss, gW, gb = net.loss_and_grads(Xtr[idx], ytr[idx])
                losses.append(loss)
                for i in range(len(net.W)):
                    vel_W[i] = MOMENTUM * vel_W[i] - cfg.lr * gW[i]
                    vel_b[i] = MOMENTUM * vel_b[i] - cfg.lr * gb[i]
                    net.W[i] += vel_W[i]
                    net.b[i] += vel_b[i]
            train_loss = float(np.mean(losses))
            val_loss, _, _ = net.loss_and_grads(Xva, yva)
            val_score = float((net.predict_logits(Xva).argmax(axis=1) == yva).mean())
            finite = all(np.isfinite(W).all() for W in net.W) and math.isfinite(train_loss) and math.isfinite(val_loss)
            if not finite or val_loss > DIVERGED_LOSS:
                # Divergence is a result: the restart is marked and frozen (no further epochs).
                diverged = True
                history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": float("nan"), "val_score": float("nan")})
                break
            history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "val_score": val_score})
            if best is None or val_loss < best[0]:
                best = (val_loss, val_score, epoch, [W.copy() for W in net.W], [b.copy() for b in net.b])
            if epoch % DIAG_EVERY == 0 or epoch == EPOCHS:
                diags += [{"epoch": epoch, **r} for r in _diagnostics(net, prev, Xva, yva)]
    train_time = time.perf_counter() - t0
    result: dict[str, Any] = {
        "val_score": float("nan") if diverged or best is None else best[1],
        "val_loss": float("nan") if diverged or best is None else best[0],
        "best_epoch": None if best is None else best[2],
        "epochs_run": epoch,
        "diverged": diverged,
        "train_time": train_time,
        "stopped_by": "diverged" if diverged else "budget",
    }
    model = None
    if best is not None and not diverged:
        net.W, net.b = best[3], best[4]
        model = net
    return result, history, diags, model


def _data(seed: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    digits = load_digits()
    X, y = digits.data.astype(np.float64), digits.target.astype(np.int64)
    idx = np.arange(len(y))
    tr, rest = train_test_split(idx, test_size=0.4, random_state=seed, stratify=y)
    va, te = train_test_split(rest, test_size=0.5, random_state=seed, stratify=y[rest])
    scaler = StandardScaler().fit(X[tr])  # fitted on train only
    data = {
        "X_train": scaler.transform(X[tr]),
        "y_train": y[tr],
        "X_val": scaler.transform(X[va]),
        "y_val": y[va],
        "X_test": scaler.transform(X[te]),
        "y_test": y[te],
    }
    counts = np.bincount(y[tr], minlength=10)
    describe = {
        "source": "sklearn.datasets.load_digits",
        "target": "digit",
        "rows": int(len(y)),
        "features": int(X.shape[1]),
        "feature_names": [f"pixel_{i // 8}_{i % 8}" for i in range(X.shape[1])],
        "task": "classification",
        "classes": [str(c) for c in range(10)],
        "class_balance": {str(c): int(n) for c, n in enumerate(counts)},
        "split_sizes": {"train": int(len(tr)), "val": int(len(va)), "test": int(len(te))},
        "preprocessing": {
            "numeric": {"columns": int(X.shape[1]), "scaling": "standardize (mean, std of train)"},
            "categorical": {"columns": 0, "encoding": "one-hot"},
            "features_out": int(X.shape[1]),
        },
    }
    return data, describe


def _latency_ms(net: _MLP, n_in: int, batch: int, repeats: int) -> float:
    x = np.zeros((batch, n_in))
    net.predict_logits(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        net.predict_logits(x)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1000.0


def _paired(restarts: pd.DataFrame, board: pd.DataFrame, chosen: str, best: str) -> dict | None:
    """The choice against the best (or, when it is the best, the best simpler config), restart k
    against restart k, computed here with numpy."""
    if chosen != best:
        other, relation = best, "best"
    else:
        params = float(board.loc[board["key"] == chosen, "params"].iloc[0])
        simpler = board[(board["params"] < params) & np.isfinite(board["val_mean"])]
        if simpler.empty:
            return None
        other, relation = str(simpler.loc[simpler["val_mean"].idxmax(), "key"]), "best simpler"
    ok = restarts[~restarts["diverged"]]
    a = ok[ok["key"] == chosen].set_index("restart")["val_score"]
    b = ok[ok["key"] == other].set_index("restart")["val_score"]
    d = (a - b).dropna().to_numpy(dtype=float)
    return {"other_key": other, "other_label": str(board.loc[board["key"] == other, "label"].iloc[0]),
            "relation": relation, "mean_diff": float(d.mean()),
            "se_diff": float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else float("nan"), "n": int(len(d))}


def write_run(run_dir: str | Path, *, seed: int = 0, hostile: bool = False) -> Path:
    """Train, choose, test and write a complete run directory at ``run_dir``; return its path."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    data, describe = _data(seed)
    n_in, n_out = data["X_train"].shape[1], 10
    labels = {cfg.key: cfg.label for cfg in CONFIGS}
    if hostile:
        describe["source"] = HOSTILE
        describe["feature_names"][0] = HOSTILE
        describe["class_balance"] = {(HOSTILE if c == "0" else c): n for c, n in describe["class_balance"].items()}
        describe["classes"][0] = HOSTILE
        labels[CONFIGS[1].key] = HOSTILE

    results, histories, diagnostics = [], [], []
    models: dict[tuple[str, int], _MLP] = {}
    for cfg in CONFIGS:
        for r in range(N_RESTARTS):
            res, hist, diags, model = _train(cfg, r, seed, data, n_out)
            base = {"key": cfg.key, "restart": r}
            results.append(
                {
                    **base,
                    "label": labels[cfg.key],
                    "seed": seed * 1000 + r,
                    "depth": cfg.depth,
                    "widths": "-".join(map(str, cfg.widths)),
                    "activation": cfg.activation,
                    "init": cfg.init,
                    "lr": cfg.lr,
                    "params": cfg.params(n_in, n_out),
                    **res,
                }
            )
            histories += [{**base, **h} for h in hist]
            diagnostics += [{**base, **d} for d in diags]
            if model is not None:
                models[(cfg.key, r)] = model
    restarts = pd.DataFrame(results)

    board_rows = []
    for cfg in CONFIGS:
        mine = restarts[restarts["key"] == cfg.key]
        ok = mine.loc[~mine["diverged"], "val_score"].to_numpy()
        n_ok = len(ok)
        mean = float(ok.mean()) if n_ok else float("nan")
        std = float(ok.std(ddof=1)) if n_ok > 1 else 0.0 if n_ok == 1 else float("nan")
        # A restart is "good" when it lands within 2 points of the config's best restart;
        # diverged restarts count as bad luck.
        p_good = float((ok >= ok.max() - 0.02).sum() / len(mine)) if n_ok else 0.0
        r95 = 1 if p_good >= 1.0 else (math.ceil(math.log(0.05) / math.log(1.0 - p_good)) if p_good > 0 else None)
        board_rows.append(
            {
                "key": cfg.key,
                "label": labels[cfg.key],
                "depth": cfg.depth,
                "widths": "-".join(map(str, cfg.widths)),
                "activation": cfg.activation,
                "init": cfg.init,
                "lr": cfg.lr,
                "params": cfg.params(n_in, n_out),
                "flops": cfg.flops(n_in, n_out),
                "val_mean": mean,
                "val_std": std,
                "val_se": std / math.sqrt(n_ok) if n_ok else float("nan"),
                "val_min": float(ok.min()) if n_ok else float("nan"),
                "val_max": float(ok.max()) if n_ok else float("nan"),
                "n_restarts": int(len(mine)),
                "n_diverged": int(mine["diverged"].sum()),
                "p_good": p_good,
                "restarts_for_95": r95,
                "train_time": float(mine["train_time"].sum()),
            }
        )
    board = pd.DataFrame(board_rows)
    board["restarts_for_95"] = board["restarts_for_95"].astype("Int64")

    # The one-SE rule: the fewest parameters whose mean is within one SE of the best mean.
    best_i = int(board["val_mean"].idxmax())
    best_mean, best_se = float(board.at[best_i, "val_mean"]), float(board.at[best_i, "val_se"])
    ok = board[board["val_mean"] >= best_mean - best_se].sort_values(["params", "val_mean"], ascending=[True, False])
    chosen_i = int(ok.index[0])
    board["chosen"] = board.index == chosen_i
    row = board.loc[chosen_i]
    cfg = next(c for c in CONFIGS if c.key == row["key"])
    explanation = (
        f"The best mean validation accuracy is {best_mean:.2%} ± {best_se:.2%} (one SE) for "
        f"{board.at[best_i, 'label']}. {row['label']} is the smallest config "
        f"({int(row['params']):,} parameters) whose mean, {row['val_mean']:.2%}, lies within one SE of it."
    )

    mine = restarts[(restarts["key"] == cfg.key) & (~restarts["diverged"])].sort_values(
        ["val_score", "restart"], ascending=[False, True]
    )
    best_restart = int(mine.iloc[0]["restart"])
    net = models[(cfg.key, best_restart)]
    test_acc = float((net.predict_logits(data["X_test"]).argmax(axis=1) == data["y_test"]).mean())
    lat1 = _latency_ms(net, n_in, 1, 30)
    lat1024 = _latency_ms(net, n_in, 1024, 10)
    summary = {
        "chosen": {
            "key": cfg.key,
            "label": labels[cfg.key],
            "depth": cfg.depth,
            "widths": list(cfg.widths),
            "activation": cfg.activation,
            "init": cfg.init,
            "lr": cfg.lr,
            "params": cfg.params(n_in, n_out),
            "flops": cfg.flops(n_in, n_out),
            "best_restart": best_restart,
        },
        "rule": "one-se",
        "explanation": explanation,
        "metric": "accuracy",
        "test_metric": "accuracy",
        "test_score": test_acc,
        "test_metrics": {"accuracy": test_acc},
        "val_score_mean": float(row["val_mean"]),
        "val_score_std": float(row["val_std"]),
        "val_score_se": float(row["val_se"]),
        "n_init": N_RESTARTS,
        "n_configs": len(CONFIGS),
        "n_restarts": int(len(restarts)),
        "p_good": float(row["p_good"]),
        "restarts_for_95": None if pd.isna(row["restarts_for_95"]) else int(row["restarts_for_95"]),
        "train_time": float(row["train_time"]),
        "search_train_time": float(restarts["train_time"].sum()),
        "latency_ms": {"batch_1": lat1, "batch_1024": lat1024},
        "throughput": 1024.0 / (lat1024 / 1000.0),
        "split_sizes": describe["split_sizes"],
        "task": "classification",
        "seed": seed,
        "versions": {"justenough": "test-fixture", "numpy": np.__version__},
        # What no network scores: always the most frequent training class, on validation.
        "baseline": {
            "kind": "majority class",
            "prediction": int(np.bincount(data["y_train"]).argmax()),
            "metric": "accuracy",
            "val_score": float((data["y_val"] == np.bincount(data["y_train"]).argmax()).mean()),
        },
        "notices": [],
        "paired": _paired(restarts, board, str(cfg.key), str(board.at[best_i, "key"])),
    }

    restarts.to_csv(run_dir / "results.csv", index=False)
    # Best first, as a search writes it (engine/finalize.py): readers keep the file's order.
    best_first(board).to_csv(run_dir / "leaderboard.csv", index=False)
    pd.DataFrame(histories).to_csv(run_dir / "history.csv", index=False)
    pd.DataFrame(diagnostics).to_csv(run_dir / "diagnostics.csv", index=False)
    (run_dir / "data.json").write_text(json.dumps(describe, indent=2))
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return run_dir


# The fixture's run directory as pytest fixtures, for the tests that read it
# (``from tests.run_fixture import copy_run, run_dir``): one written per test module, and a copy a
# test may change.
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("run") / "digits")


@pytest.fixture
def copy_run(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run_dir, target)
    return target
