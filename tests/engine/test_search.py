"""The search end to end: real data, a real SQLite study, real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from justenough import search
from justenough.data import load, prepare
from justenough.errors import ConfigError
from justenough.executors import LocalExecutor
from justenough.durations import parse_duration
from justenough.space.search_space import Space
from justenough.executors.task import StackTask

SMALL = dict(max_epochs=30, patience=5)


def _space(**kw):
    opts = dict(depth="1", widths="8,32", **SMALL)
    opts.update(kw)
    return Space.from_options(**opts)


@pytest.fixture(scope="module")
def digits():
    table = load("digits")
    return prepare(table, seed=0)


@pytest.mark.slow
def test_digits_search_finds_a_good_simple_model(tmp_path):
    space = Space.from_options(depth="1-2", widths="8,32,128", max_epochs=60, patience=8)
    result = search("digits", space=space, n_init=3, out=tmp_path / "run", workers=1, report=False)
    assert result.test_score > 0.95
    board = result.leaderboard
    best = board.loc[board["val_mean"].idxmax()]
    assert result.chosen["params"] <= best["params"]
    # The run directory holds what the docs promise.
    run = tmp_path / "run"
    summary = json.loads((run / "summary.json").read_text())
    for key in ("chosen", "rule", "explanation", "test_metric", "test_score", "val_score_mean",
                "val_score_se", "n_init", "restarts_for_95"):
        assert key in summary
    for key in ("key", "depth", "widths", "activation", "init", "params"):
        assert key in summary["chosen"]
    lb = pd.read_csv(run / "leaderboard.csv")
    for col in ("key", "depth", "widths", "params", "val_mean", "val_std", "val_se", "n_restarts", "n_diverged", "chosen"):
        assert col in lb.columns
    assert lb["chosen"].sum() == 1
    assert len(pd.read_csv(run / "results.csv")) == 6 * 3
    assert (run / "model" / "weights.safetensors").exists()


def test_search_in_memory_returns_a_usable_model(digits):
    # `digits` is shared by the module's tests, and each search opens its test split once: count
    # this search's opening, whatever ran before (the tests run in any order).
    opened_before = digits.test.times_opened
    result = search(digits, space=_space(), n_init=2, workers=1, report=False)
    assert result.out is None
    assert len(result.restarts) == 2 * 2
    assert set(result.restarts.groupby("key").size()) == {2}
    assert digits.test.times_opened == opened_before + 1  # opened once, by finalize
    preds = result.model.predict(load("digits").features.iloc[:5])
    assert len(preds) == 5


def test_test_split_is_opened_once_and_only_after_selection(monkeypatch):
    events: list[str] = []
    import justenough.select as select_mod

    original_choose = select_mod.choose

    def spy_choose(*args, **kwargs):
        events.append("choose")
        return original_choose(*args, **kwargs)

    monkeypatch.setattr(select_mod, "choose", spy_choose)
    prepared = prepare(load("iris"), seed=1)
    original_open = type(prepared.test).open

    def spy_open(self):
        events.append("open")
        return original_open(self)

    monkeypatch.setattr(type(prepared.test), "open", spy_open)
    search(prepared, space=_space(), n_init=2, workers=1, report=False)
    assert events == ["choose", "open"], events


def test_restart_results_are_idempotent_and_resume_adds_nothing(tmp_path, digits):
    out = tmp_path / "run"
    first = search(digits, space=_space(), n_init=2, out=out, workers=1, report=False)
    again = search(digits, space=_space(), n_init=2, out=out, workers=1, report=False)
    assert len(again.restarts) == len(first.restarts)
    assert not again.restarts.duplicated(["key", "restart"]).any()
    pd.testing.assert_frame_equal(
        # The latencies are measured again each time (the ensemble's too); everything else is read back.
        first.leaderboard.drop(columns=["latency_ms", "ensemble_latency_ms"]),
        again.leaderboard.drop(columns=["latency_ms", "ensemble_latency_ms"])
    )


def test_the_sqlite_study_uses_a_write_ahead_log(tmp_path, digits):
    search(digits, space=_space(widths="8"), n_init=2, out=tmp_path / "run", workers=1, report=False)
    with sqlite3.connect(tmp_path / "run" / "study.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_each_restart_is_one_study_attribute_and_older_layouts_still_read(tmp_path, digits):
    """A restart's record, learning curves and diagnostics are one trial attribute (one write);
    a study written when curves and diagnostics had attributes of their own reads the same."""
    import optuna

    from justenough.study.tables import diagnostics_table, history_table
    from justenough.study.storage import StudyHandle

    out = tmp_path / "run"
    result = search(digits, space=_space(widths="8"), n_init=2, out=out, workers=1, report=False, diagnose_every=5)
    url = f"sqlite:///{out / 'study.db'}"
    study = optuna.load_study(study_name="justenough", storage=url)
    (trial,) = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    per_restart = sorted(k for k in trial.user_attrs if k[-1].isdigit())
    assert per_restart == ["restart_0", "restart_1"]
    record = trial.user_attrs["restart_1"]
    assert len(record["history"]["val_loss"]) == record["epochs_run"]
    assert record["diagnostics"], "the diagnostics summary is stored with the restart"

    legacy = optuna.create_study(study_name="legacy", storage=url)
    frozen = optuna.trial.create_trial(
        value=trial.value,
        user_attrs={
            **{k: v for k, v in trial.user_attrs.items() if not k.startswith("restart_")},
            **{f"restart_{k}": {n: v for n, v in trial.user_attrs[f"restart_{k}"].items() if n not in ("history", "diagnostics")} for k in (0, 1)},
            **{f"history_{k}": trial.user_attrs[f"restart_{k}"]["history"] for k in (0, 1)},
            **{f"diagnostics_{k}": trial.user_attrs[f"restart_{k}"]["diagnostics"] for k in (0, 1)},
        },
    )
    legacy.add_trial(frozen)
    old = StudyHandle(study=legacy, url=url, created=False)
    pd.testing.assert_frame_equal(history_table(old), result.history)
    pd.testing.assert_frame_equal(diagnostics_table(old), result.diagnostics)


def test_depth_zero_is_searched_and_can_be_chosen(tmp_path):
    """A linear model (no hidden layer) is one more config: trained, tabled, reported, chosen by a
    target it reaches, and saved as a one-layer network."""
    space = Space.from_options(depth="0-1", widths="8,16", max_epochs=40, patience=5)
    # ensemble=False: the model is one network, whose layers are checked (an ensemble of linear
    # models is tested in tests/engine/test_ensemble.py).
    result = search("breast_cancer", space=space, n_init=2, out=tmp_path / "run", workers=1, rule="target=0.9",
                    diagnose_every=5, ensemble=False)
    assert list(result.leaderboard.sort_values("params")["label"])[0] == "linear"
    rows = result.restarts[result.restarts["label"] == "linear"]
    assert len(rows) == 2 and set(rows["width"]) == {0} and set(rows["depth"]) == {0}
    assert result.chosen["label"] == "linear" and result.chosen["widths"] == []
    assert [type(m).__name__ for m in result.model.module] == ["Linear"]
    linear_key = result.chosen["key"]
    assert not (result.diagnostics["key"] == linear_key).any()  # no hidden units to diagnose
    assert (result.diagnostics["key"] != linear_key).any()
    assert "no hidden layer" in (tmp_path / "run" / "report.html").read_text()


def test_a_duplicate_waiting_trial_does_not_end_the_search_early(digits, monkeypatch):
    """A waiting grid trial whose config is already done (two drivers enqueueing at once can
    leave one) is failed as a duplicate, and the configs waiting behind it are still trained, even
    when a whole round of claims meets only duplicates."""
    from justenough.engine.driver import Driver as driver_cls  # imported here: it loads optuna

    def enqueue_with_a_duplicate(self):
        configs = self._largest_stacks_first(self.space.configs())  # 1x128, 1x64, 1x32
        for cfg in (configs[0], configs[1], configs[0], configs[1], configs[2]):
            self.handle.study.enqueue_trial(self.space.grid_params(cfg))
        return len(configs)

    monkeypatch.setattr(driver_cls, "enqueue_grid", enqueue_with_a_duplicate)
    result = search(digits, space=_space(widths="32,64,128", max_epochs=6), n_init=2, workers=1, report=False)
    assert sorted(result.leaderboard["label"]) == ["1x128", "1x32", "1x64"]
    assert not result.restarts.duplicated(["key", "restart"]).any()


def test_resume_with_other_data_is_refused(tmp_path):
    out = tmp_path / "run"
    search("iris", space=_space(), n_init=2, out=out, workers=1, report=False)
    with pytest.raises(ConfigError, match="different data"):
        search("wine", space=_space(), n_init=2, out=out, workers=1, report=False)
    with pytest.raises(ConfigError, match="different space"):
        search("iris", space=_space(widths="8,16"), n_init=2, out=out, workers=1, report=False)
    from justenough.train.bf16_support import bf16_support

    if bf16_support("cpu")[0]:
        with pytest.raises(ConfigError, match="different precision"):
            search("iris", space=_space(), n_init=2, out=out, workers=1, report=False, precision="bfloat16")
    else:  # bfloat16 falls back to float32 on this CPU: the same study, resumed
        search("iris", space=_space(), n_init=2, out=out, workers=1, report=False, precision="bfloat16")


def test_bfloat16_search_records_its_precision(tmp_path, digits):
    space = Space.from_options(depth="1", widths="64,128", max_epochs=10, patience=None)
    result = search(digits, space=space, n_init=2, out=tmp_path / "run", workers=1, report=False, precision="bfloat16")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    from justenough.train.bf16_support import bf16_support

    # Where this CPU has no bfloat16 the search trains in float32 and says so (test_first_hour_options.py).
    expected = "bfloat16" if bf16_support("cpu")[0] else "float32"
    assert summary["precision"] == expected and result.test_score > 0.9
    with pytest.raises(ConfigError, match="precision"):
        search(digits, space=space, n_init=2, workers=1, report=False, precision="float16")


def test_all_diverged_config_is_recorded_and_never_chosen(digits):
    # Divergence by construction, never by a chaotic trajectory (a huge learning rate may as well
    # kill every ReLU and stay finite): weights of scale 1e30 multiply the signal by ~1e30 per
    # layer, so the logits of the first forward pass are ~1e60, 22 orders of magnitude past
    # float32's largest value (3.4e38): the loss is non-finite at once, for any seed, CPU or BLAS.
    # (No draw saves it: every product of a hidden activation and an output weight would have to be
    # 1e-22 times its typical size.)
    space = _space(widths="16", init="he_normal,normal(std=1e30)")
    result = search(digits, space=space, n_init=2, workers=1, report=False)
    board = result.leaderboard.set_index("init")
    assert board.loc["normal(std=1e+30)", "n_diverged"] == 2
    assert board.loc["he_normal", "n_diverged"] == 0
    blown = result.restarts[result.restarts["init"] == "normal(std=1e+30)"]
    assert (blown["epochs_run"] == 1).all() and (blown["stopped_by"] == "diverged").all()
    assert result.chosen["init"] == "he_normal"


def test_halving_prunes_configs_inside_a_stack(digits):
    space = Space.from_options(depth="1", widths="4,8,16,32,64,128", max_epochs=30, patience=None)
    result = search(digits, space=space, n_init=2, workers=1, halving=True, report=False)
    restarts = result.restarts
    pruned = restarts[restarts["pruned"]]
    assert pruned["key"].nunique() >= 3
    assert set(pruned["pruned_rung"].dropna().astype(int)) <= {8, 24}
    assert not result.leaderboard.loc[result.leaderboard["chosen"], "pruned"].any()


class _RecordingExecutor(LocalExecutor):
    """The inline executor, noting each stack task it is given (``slots`` stacks at a time)."""

    def __init__(self, slots: int) -> None:
        super().__init__(workers=1)
        self.slots = slots
        self.tasks: list[StackTask] = []

    def submit(self, task):
        self.tasks.append(task)
        return super().submit(task)


def test_small_architectures_of_a_depth_share_a_stack_and_big_stacks_go_first(digits):
    space = Space.from_options(depth="1,2", widths="4,8,16,64", max_epochs=4, patience=None)
    ex = _RecordingExecutor(slots=2)
    result = search(digits, space=space, n_init=2, executor=ex, report=False)
    stacks = [sorted(c.widths[0] for c in t.configs) for t in ex.tasks]
    depths = [t.configs[0].depth for t in ex.tasks]
    assert sorted(zip(depths, map(tuple, stacks))) == [(1, (4, 8, 16)), (1, (64,)), (2, (4, 8, 16)), (2, (64,))]
    costs = [sum(c.params(digits.n_features, 10) for c in t.configs) for t in ex.tasks]
    assert costs == sorted(costs, reverse=True)  # the costliest stacks first
    assert len(result.leaderboard) == 8 and result.leaderboard["n_restarts"].eq(2).all()
    # Packing changes no number: a small config trained in the packed stack equals it alone.
    alone = search(digits, space=Space.from_options(depth="1", widths="8", max_epochs=4, patience=None), n_init=2, workers=1, report=False)
    key = alone.leaderboard["key"].iloc[0]
    cols = ["restart", "val_score", "val_loss", "train_loss", "best_epoch"]
    pd.testing.assert_frame_equal(
        alone.restarts.loc[alone.restarts["key"] == key, cols].reset_index(drop=True),
        result.restarts.loc[result.restarts["key"] == key, cols].reset_index(drop=True),
        rtol=1e-5,
    )


def test_two_worker_processes_give_the_same_leaderboard(digits):
    one = search(digits, space=_space(), n_init=2, workers=1, report=False)
    two = search(digits, space=_space(), n_init=2, workers=2, report=False)
    cols = ["key", "val_mean", "val_std", "n_diverged"]
    pd.testing.assert_frame_equal(
        one.leaderboard[cols].sort_values("key").reset_index(drop=True),
        two.leaderboard[cols].sort_values("key").reset_index(drop=True),
    )


def test_parse_duration():
    assert parse_duration("10m") == 600
    assert parse_duration("1.5h") == 5400
    assert parse_duration("90") == 90
    assert parse_duration("1ms") == pytest.approx(0.001)
    with pytest.raises(ConfigError):
        parse_duration("soon")
    assert parse_duration(90) == 90.0 and parse_duration(0.5) == 0.5
    # A number is checked like text: a negative, zero, infinite or NaN budget is refused, naming the option.
    for bad in (-1, 0, float("inf"), float("nan"), "-5m", "0s"):
        with pytest.raises(ConfigError, match="time_budget|time-budget"):
            parse_duration(bad)
    with pytest.raises(ConfigError, match="max_latency|max-latency"):
        parse_duration(-2.0, latency=True)
    # A latency limit given as a number (milliseconds, to the API) is checked the same way.
    from justenough.settings import SearchSettings

    assert SearchSettings(space=Space.default(), max_latency_ms=2).max_latency_ms == 2.0
    for bad in (-2, 0, float("inf")):
        with pytest.raises(ConfigError, match="max_latency"):
            SearchSettings(space=Space.default(), max_latency_ms=bad)


_SCRIPT = textwrap.dedent(
    """
    import sys
    from justenough import search
    from justenough.space.search_space import Space
    space = Space.from_options(depth="1-2", widths="16,32,64", max_epochs=40, patience=None)
    search("digits", space=space, n_init=2, out=sys.argv[1], workers=1, report=False)
    """
)


def _completed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute("select count(*) from trials where state='COMPLETE'").fetchone()[0]
    except sqlite3.Error:
        return 0


def run_and_kill(script: str, out: Path, after: int) -> int:
    """Run ``script`` (a search writing to ``out``) in a subprocess, SIGKILL it once ``after``
    trials of its study are complete, and return how many were complete when it died."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script, str(out)], env=env)
    deadline = time.time() + 300
    while _completed(out / "study.db") < after and time.time() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the search finished before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return _completed(out / "study.db")


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    killed = tmp_path / "killed"
    done_before = run_and_kill(_SCRIPT, killed, after=2)
    assert 2 <= done_before < 6

    with sqlite3.connect(killed / "study.db") as con:
        before = dict(con.execute(
            "select t.number, v.value from trials t join trial_values v on v.trial_id = t.trial_id where t.state='COMPLETE'"
        ).fetchall())

    space = Space.from_options(depth="1-2", widths="16,32,64", max_epochs=40, patience=None)
    resumed = search("digits", space=space, n_init=2, out=killed, workers=1, report=False)
    fresh = search("digits", space=space, n_init=2, out=tmp_path / "fresh", workers=1, report=False)

    with sqlite3.connect(killed / "study.db") as con:
        after = dict(con.execute(
            "select t.number, v.value from trials t join trial_values v on v.trial_id = t.trial_id where t.state='COMPLETE'"
        ).fetchall())
    assert all(after[n] == v for n, v in before.items()), "finished trials changed on resume"
    assert not resumed.restarts.duplicated(["key", "restart"]).any()
    assert len(resumed.restarts) == 6 * 2
    cols = ["key", "val_mean", "val_std", "n_restarts", "n_diverged", "chosen"]
    pd.testing.assert_frame_equal(
        resumed.leaderboard[cols].sort_values("key").reset_index(drop=True),
        fresh.leaderboard[cols].sort_values("key").reset_index(drop=True),
    )


@pytest.mark.slow
def test_ctrl_c_finishes_the_stack_in_flight_and_says_how_to_resume(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "justenough.cli", "search", "digits", "--depth", "1-2", "--widths", "16,32,64",
           "--n-init", "2", "--max-epochs", "40", "--patience", "none", "--workers", "1", "--no-report",
           "--out", str(run)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while _completed(run / "study.db") < 1 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert proc.poll() is None, "the search finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 130, output
    assert "resume" in output
    assert "Traceback" not in output
    done = _completed(run / "study.db")
    assert 1 <= done < 6
    with sqlite3.connect(run / "study.db") as con:
        running = con.execute("select count(*) from trials where state='RUNNING'").fetchone()[0]
    assert running == 0, "the stack in flight must be finished and told, not left running"

    space = Space.from_options(depth="1-2", widths="16,32,64", max_epochs=40, patience=None)
    resumed = search("digits", space=space, n_init=2, out=run, workers=1, report=False)
    assert len(resumed.restarts) == 6 * 2
    assert not resumed.restarts.duplicated(["key", "restart"]).any()


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_sees_the_epochs_of_the_stacks_in_flight(digits, workers):
    from justenough.engine.progress import SearchProgress

    class Recorder(SearchProgress):
        def __init__(self):
            self.epochs: dict[str, list[int]] = {}
            self.done: list[str] = []

        def on_epoch(self, configs, epoch, max_epochs):
            assert max_epochs == 12
            for cfg in configs:
                self.epochs.setdefault(cfg.key, []).append(epoch)

        def on_config_done(self, config, stats, best_so_far):
            self.done.append(config.key)

    rec = Recorder()
    search(digits, space=_space(max_epochs=12, patience=None), n_init=2, workers=workers, report=False, progress=rec)
    assert set(rec.epochs) == set(rec.done)
    for seen in rec.epochs.values():
        assert seen == sorted(seen) and max(seen) <= 12


def test_monitor_val_score_reaches_the_trainer(digits):
    """``monitor`` is a setting of the space: with val_score, each restart's best epoch is the
    first epoch of its highest validation score."""
    from justenough.executors.task import run_stack_task
    from justenough.executors.training_data import TrainingData

    space = Space.from_options(depth="1", widths="16", max_epochs=40, patience=3, monitor="val_score", embed="none")
    (cfg,) = space.configs()
    assert cfg.monitor == "val_score"
    task = StackTask(configs=(cfg,), restarts=(0, 1), study_seed=0, task_id=cfg.key)
    for r in run_stack_task(task, TrainingData.from_prepared(digits)):
        scores = r.history["val_score"]
        assert r.val_score == max(scores) and r.best_epoch == scores.index(max(scores)) + 1


def test_the_bfloat16_fallback_notice_is_returned_once_and_not_a_warning(monkeypatch, caplog):
    """Where the device lacks bfloat16 the settings fall back to float32 and the notice comes back to
    the caller, which shows it (the CLI's progress, the estimators' verbose). It is logged at INFO:
    as a warning, with no handler configured, Python's last-resort handler printed it a second time
    on stderr."""
    import logging

    import justenough.train.bf16_support as support
    from justenough.api import supported_precision
    from justenough.settings import SearchSettings
    from justenough.vocab import Precision

    monkeypatch.setattr(support, "bf16_support", lambda device="cpu": (False, "no bfloat16 on this test's CPU"))
    caplog.set_level(logging.DEBUG)
    read, notice = supported_precision(SearchSettings(space=Space.default(), precision="bfloat16"))  # type: ignore[arg-type]
    assert read.precision == Precision.FLOAT32 and notice and "float32" in notice
    said = [r for r in caplog.records if r.getMessage() == notice]
    assert said and all(r.levelno < logging.WARNING for r in said)
