"""The grow strategy in real searches: fewer configs than the grid, a choice the grid rates as
good, the explanation in summary.json and the CLI, refusal with halving, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from justenough import search
from justenough.errors import ConfigError
from justenough.run.growth import Growth
from justenough.space.search_space import Space
from tests.engine.test_search import run_and_kill

# Moons: a linear model cannot separate the half circles, a small hidden layer can.
MOONS_SPACE = dict(depth="0-2", widths="4,8,16,32,64", max_epochs=80, embed="none")


@pytest.mark.slow
def test_grow_trains_fewer_configs_than_the_grid_and_picks_one_the_grid_rates_within_one_se(tmp_path):
    space = Space.from_options(**MOONS_SPACE)
    grid = search("moons", space=space, n_init=5, workers=1, report=False)
    grow = search("moons", space=space, n_init=5, workers=1, out=tmp_path / "grow", report=False, strategy="grow")

    assert len(grow.leaderboard) < len(grid.leaderboard) == len(space.configs())
    board = grid.leaderboard.set_index("key")
    best = board.loc[board["val_mean"].idxmax()]
    assert board.loc[grow.chosen["key"], "val_mean"] >= best["val_mean"] - best["val_se"]
    # The linear model was tried first, and beaten by a hidden layer (by about 10 points).
    growth = grow.summary["growth"]
    assert growth["path"][0]["config"] == "linear" and any(p["beat"] for p in growth["path"][1:])
    assert grow.chosen["depth"] >= 1
    # Every config of the space is either trained (on the path) or listed as not needed.
    on_path = {p["key"] for p in growth["path"]}
    assert on_path == set(grow.leaderboard["key"])
    assert on_path | {n["key"] for n in growth["not_needed"]} == {c.key for c in space.configs()}
    written = json.loads((tmp_path / "grow" / "summary.json").read_text())
    assert written["growth"] == growth
    assert growth["explanation"] in grow.explanation
    assert written["test_split"] == "sealed" and 0.0 <= written["test_score"] <= 1.0


def test_grow_and_halving_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ConfigError, match="do not combine"):
        search("moons", depth="0-1", widths="4", n_init=2, out=tmp_path / "run", strategy="grow", halving=True)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="unknown strategy"):
        search("moons", n_init=2, strategy="shrink")
    with pytest.raises(ConfigError, match="walks the grid itself"):
        search("moons", n_init=2, strategy="grow", sampler="tpe")


def test_the_cli_refuses_grow_with_halving_and_exits_2(tmp_path):
    cmd = [sys.executable, "-m", "justenough.cli", "search", "moons", "--strategy", "grow", "--halving",
           "--out", str(tmp_path / "run")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--halving" in proc.stderr + proc.stdout and "--strategy grid" in proc.stderr + proc.stdout
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_the_cli_says_where_growth_stopped(tmp_path):
    cmd = [sys.executable, "-m", "justenough.cli", "search", "moons", "--depth", "0-1", "--widths", "4,8,16",
           "--n-init", "3", "--max-epochs", "40", "--strategy", "grow", "--workers", "1", "--no-report", "-q",
           "--out", str(tmp_path / "run")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "growth: " + summary["growth"]["explanation"] in " ".join(proc.stdout.split())


_SCRIPT = textwrap.dedent(
    """
    import sys
    from justenough import search
    from justenough.space.search_space import Space
    space = Space.from_options(depth="0-2", widths="16,32,64", max_epochs=40, patience=None)
    search("digits", space=space, n_init=2, out=sys.argv[1], workers=1, report=False, strategy="grow")
    """
)


@pytest.mark.slow
def test_sigkill_then_resume_takes_the_same_path_as_an_uninterrupted_run(tmp_path):
    killed = tmp_path / "killed"
    done_before = run_and_kill(_SCRIPT, killed, after=2)
    assert done_before >= 2

    import sqlite3

    query = "select t.number, v.value from trials t join trial_values v on v.trial_id = t.trial_id where t.state='COMPLETE'"
    with sqlite3.connect(killed / "study.db") as con:
        before = dict(con.execute(query).fetchall())

    space = Space.from_options(depth="0-2", widths="16,32,64", max_epochs=40, patience=None)
    resumed = search("digits", space=space, n_init=2, out=killed, workers=1, report=False, strategy="grow")
    fresh = search("digits", space=space, n_init=2, out=tmp_path / "fresh", workers=1, report=False, strategy="grow")

    with sqlite3.connect(killed / "study.db") as con:
        after = dict(con.execute(query).fetchall())
    assert all(after[n] == v for n, v in before.items()), "finished trials changed on resume"
    assert not resumed.restarts.duplicated(["key", "restart"]).any()
    assert len(resumed.restarts) == len(fresh.restarts)
    cols = ["key", "val_mean", "val_std", "n_restarts", "n_diverged", "chosen"]
    pd.testing.assert_frame_equal(
        resumed.leaderboard[cols].sort_values("key").reset_index(drop=True),
        fresh.leaderboard[cols].sort_values("key").reset_index(drop=True),
    )
    assert resumed.summary["growth"]["path"] == fresh.summary["growth"]["path"]


@pytest.mark.slow
def test_the_report_draws_the_growth_path_and_greys_the_configs_not_needed(tmp_path):
    from justenough.report import figures

    space = Space.from_options(depth="0-2", widths="4,8,16,32", max_epochs=30)
    result = search("moons", space=space, n_init=3, workers=1, out=tmp_path / "run", strategy="grow")
    growth = result.summary["growth"]
    html_text = (tmp_path / "run" / "report.html").read_text()
    assert 'id="fig-growth"' in html_text and "Growth path" in html_text
    # The path's points are the leaderboard's means and SEs, in the order tried (percent: x100).
    fig = figures.growth_figure(Growth.from_json(growth).path, result.leaderboard, result.chosen["key"], percent=True, metric="accuracy")
    board = result.leaderboard.set_index("key")
    assert list(fig.data[0].x) == [f"{i + 1}. {p['config']}" for i, p in enumerate(growth["path"])]
    assert list(fig.data[0].y) == pytest.approx([100 * board.loc[p["key"], "val_mean"] for p in growth["path"]])
    assert list(fig.data[0].error_y.array) == pytest.approx([100 * board.loc[p["key"], "val_se"] for p in growth["path"]])
    # Every config not needed is a grey cell of the depth x width map.
    heat = figures.heatmap_figure(result.leaderboard, result.chosen["key"], percent=True, metric="accuracy",
                                  untried=[(n["depth"], n["width"]) for n in growth["not_needed"]])
    grey = [t for t in heat.data if t.name == "not needed"]
    cells = {(int(y), 0 if x == "none" else int(x)) for x, y in zip(grey[0].x, grey[0].y)} if grey else set()
    assert cells == {(n["depth"], n["width"]) for n in growth["not_needed"]}
    if growth["not_needed"]:
        assert "not needed" in html_text


def test_grow_refuses_a_space_whose_simplest_config_is_over_max_params(tmp_path):
    with pytest.raises(ConfigError, match="max_params"):
        search("moons", depth="1", widths="32,64", n_init=2, max_params=10, out=tmp_path / "run", strategy="grow",
               report=False)


def test_grow_counts_the_ensemble_against_max_params_and_says_one_network_would_fit(tmp_path):
    # moons: 2 inputs, 2 classes; 1x4 has 22 parameters, its ensemble of 2 restarts 44.
    with pytest.raises(ConfigError, match=r"as an ensemble of 2 restarts.*ensemble=False") as raised:
        search("moons", depth="1", widths="4,8", n_init=2, max_params=30, out=tmp_path / "run", strategy="grow",
               report=False)
    assert "1x4" in str(raised.value)



@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # asking outside Study.optimize, as the driver does
def test_a_trial_whose_driver_died_before_naming_itself_is_failed_after_the_grace_period(tmp_path, monkeypatch):
    # A kill between asking a trial and naming its driver left a RUNNING trial that no one owned,
    # and a resumed search waited for it forever (found by the SIGKILL test above).
    import optuna

    from justenough.study import storage as study_module
    from justenough.study.storage import driver_id, open_study, storage_url

    handle = open_study(storage_url(None, tmp_path), fingerprint={"test": 1}, sampler=optuna.samplers.RandomSampler(0),
                        directions=["maximize"])
    orphan = handle.study.ask()
    mine = handle.study.ask()
    mine.set_user_attr("driver", driver_id())
    assert handle.fail_dead_trials() == []  # young: its driver may be naming itself right now
    monkeypatch.setattr(study_module, "GRACE_PERIOD_S", 0)
    time.sleep(0.05)
    assert handle.fail_dead_trials() == [orphan.number]
    states = {t.number: t.state for t in handle.trials()}
    assert states[orphan.number] == optuna.trial.TrialState.FAIL
    assert states[mine.number] == optuna.trial.TrialState.RUNNING


def test_a_pending_config_finished_by_another_driver_before_this_one_runs_moves_the_walk_on(tmp_path, monkeypatch):
    # CI found this race with two drivers on PostgreSQL: driver B's walk asked for "linear",
    # driver A had it running, so B did not enqueue it; A finished it before B counted the done
    # trials, B's run then trained nothing new and B stopped with "could not train linear".
    # Here the other driver is played by this driver's own run(), called at the moment B reads
    # which configs are taken (the first read that includes waiting trials).
    from optuna.trial import TrialState

    from justenough.engine import train_study as run_module

    real_run_grow = run_module.run_grow
    raced = []

    def run_grow_with_a_rival(driver, handle, space, data, patience, max_params, *rest, **keywords):
        real_keys_in = handle.keys_in

        def keys_in(states):
            states = tuple(states)
            if TrialState.WAITING in states and not raced:
                raced.append(True)
                linear = next(c for c in space.configs() if c.depth == 0)
                handle.study.enqueue_trial(space.grid_params(linear))
                driver.run()  # the rival claims and finishes "linear" now
            return real_keys_in(states)

        monkeypatch.setattr(handle, "keys_in", keys_in)
        return real_run_grow(driver, handle, space, data, patience, max_params, *rest, **keywords)

    monkeypatch.setattr(run_module, "run_grow", run_grow_with_a_rival)
    space = Space.from_options(depth="0-1", widths="4,8", max_epochs=5, patience=None, embed="none")
    result = search("moons", space=space, n_init=2, workers=1, out=tmp_path / "run", report=False, strategy="grow")

    assert raced
    path = [p["key"] for p in result.summary["growth"]["path"]]
    assert path[0] == next(c for c in space.configs() if c.depth == 0).key
    assert len(path) >= 2, "the walk went on past the config the rival finished"
    assert sorted(result.leaderboard["key"]) == sorted(path), "every config on the path trained once"



@pytest.mark.parametrize(("given", "read"), [("TPE", "tpe"), ("nsgaii", "nsga2")])
def test_a_study_whose_sampler_was_recorded_as_given_resumes_with_the_sampler_as_read(tmp_path, given, read):
    # Before the settings read the sampler once, a study kept it as the API was given it ("TPE",
    # "nsgaii"); now it is recorded as read ("tpe", "nsga2"). Such a study resumes; another
    # sampler is still refused.
    import optuna

    from justenough.study.storage import open_study, storage_url

    url = storage_url(None, tmp_path)
    sampler = optuna.samplers.RandomSampler(0)
    open_study(url, fingerprint={"sampler": given}, sampler=sampler, directions=["maximize"])
    open_study(url, fingerprint={"sampler": read}, sampler=sampler, directions=["maximize"])
    with pytest.raises(ConfigError, match="different sampler"):
        open_study(url, fingerprint={"sampler": "random"}, sampler=sampler, directions=["maximize"])
