"""The HTML report, without a browser: structure, escaping, missing files, and the figures' numbers.

The run directory comes from ``tests/run_fixture.py``: tiny numpy MLPs really trained on digits,
so every number the report shows is checked against the files it was built from.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justenough.errors import ArtifactError
from justenough.report import build_report
from justenough.report import paired_with_best, figures
from justenough.report import SECTIONS, safe_json
from justenough.report.network_drawing import drawn_units, network_svg
from justenough.run.files import load_run
from tests.run_fixture import CONFIGS, HOSTILE, write_run

SRC_REPORT = Path(figures.__file__).parent  # the report package: style.css lives beside its code


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("run") / "digits")


@pytest.fixture(scope="module")
def html_text(run_dir: Path) -> str:
    return build_report(run_dir).read_text(encoding="utf-8")


@pytest.fixture
def copy_run(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run_dir, target, ignore=shutil.ignore_patterns("report.html"))
    return target


def _section(html_text: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', html_text, re.S)
    assert m, f"no section {sid}"
    return m.group(1)


# --- the fixture itself is consistent ----------------------------------------------------------


def test_fixture_is_internally_consistent(run_dir: Path) -> None:
    results = pd.read_csv(run_dir / "results.csv")
    board = pd.read_csv(run_dir / "leaderboard.csv")
    history = pd.read_csv(run_dir / "history.csv")
    summary = json.loads((run_dir / "summary.json").read_text())
    for _, row in board.iterrows():
        mine = results[(results["key"] == row["key"]) & ~results["diverged"]]
        assert row["val_mean"] == pytest.approx(mine["val_score"].mean())
        assert row["n_diverged"] == int(results.loc[results["key"] == row["key"], "diverged"].sum())
    # The one-SE rule: the chosen config is the smallest within one SE of the best mean.
    best = board.loc[board["val_mean"].idxmax()]
    inside = board[board["val_mean"] >= best["val_mean"] - best["val_se"]]
    assert summary["chosen"]["params"] == inside["params"].min()
    assert board.loc[board["chosen"], "key"].tolist() == [summary["chosen"]["key"]]
    # Each finished restart's best epoch matches its history's lowest validation loss.
    for _, r in results[~results["diverged"]].iterrows():
        h = history[(history["key"] == r["key"]) & (history["restart"] == r["restart"])]
        assert int(h.loc[h["val_loss"].idxmin(), "epoch"]) == r["best_epoch"]
    # Exactly the restarts that start blown up diverge, by construction, on any machine; so the
    # far-behind config keeps surviving restarts (a finite mean) and is the only one far below.
    blown_up = {(c.key, r) for c in CONFIGS for r in c.blown_up}
    assert blown_up, "the fixture should include diverged restarts"
    assert set(zip(results.loc[results["diverged"], "key"], results.loc[results["diverged"], "restart"])) == blown_up
    assert np.isfinite(board["val_mean"]).all()
    assert figures.focus_range(board["val_mean"].to_numpy()) is not None
    (far,) = board.loc[board["val_mean"] < 0.6, "key"]
    assert far in {key for key, _ in blown_up}
    assert 0.9 < summary["test_score"] <= 1.0


# --- structure and offline-ness ----------------------------------------------------------------


def test_report_has_every_section_in_order(html_text: str) -> None:
    positions = []
    for sid, heading in SECTIONS:
        m = re.search(rf'<section id="{sid}"><h2>{re.escape(heading)}</h2>', html_text)
        assert m, f"section {sid} with heading {heading!r} is missing"
        positions.append(m.start())
    assert positions == sorted(positions)
    for name in ("complexity", "heatmap", "restarts", "curves", "diagnostics"):
        assert f'<div class="figure" id="fig-{name}"></div>' in html_text
        assert f'Plotly.newPlot("fig-{name}"' in html_text


def test_report_is_self_contained(html_text: str) -> None:
    import plotly.offline

    js = plotly.offline.get_plotlyjs()
    assert html_text.count(js) == 1, "plotly.js must be embedded exactly once"
    assert html_text.count("</script>") == 2
    # No element loads anything: no src/href to a URL, no stylesheet link, no @import or url().
    outside_js = html_text.replace(js, "")
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)=', outside_js, re.I)
    assert not re.search(r'href="(https?:)?//', outside_js)
    assert "@import" not in outside_js and "url(" not in outside_js
    assert "Content-Security-Policy" in html_text and "default-src 'none'" in html_text


def test_answer_section_states_the_choice(html_text: str, run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    answer = _section(html_text, "answer")
    widths = summary["chosen"]["widths"]
    # n_in solved from the parameter count (64 pixels) and n_out from the classes (10).
    assert "64 → " + " → ".join(map(str, widths)) + " → 10" in answer
    assert f"{100 * summary['test_score']:.2f}%" in answer
    assert f"{summary['chosen']['params']:,} params" in answer
    assert f"no network: always {summary['baseline']['prediction']!r} (majority class): " in html.unescape(answer)
    assert f"{summary['restarts_for_95']} for 95%" in answer
    assert "batch 1" in answer and "at batch 1024" in answer and "rows/s" in answer
    assert "one SE" in answer  # the explanation, escaped but present
    assert '<svg class="network"' in answer
    assert answer.count('class="badge">chosen<') == 1
    assert re.search(r"<tr class=chosen><td class=rank>\d+</td><td>" + re.escape(summary["chosen"]["label"]), answer)
    # The recipe table names every setting the chosen config trained with (run/recipe_table.py).
    recipe = answer[answer.index('<table class="recipe">'):]
    board = pd.read_csv(run_dir / "leaderboard.csv")
    chosen = {**board[board["key"] == summary["chosen"]["key"]].iloc[0].to_dict(), **summary["chosen"]}
    assert f"<td>learning rate</td><td>{float(chosen['lr']):g}</td>" in recipe
    assert f"<td>initialization</td><td>{chosen['init']}</td>" in recipe
    assert "<td>batch size</td><td>n/a</td>" in recipe  # the fixture's numpy nets record no batch size
    for setting in ("weight decay", "early stopping patience", "numeric embedding", "numeric scaling", "model that predicts"):
        assert f"<td>{setting}</td>" in recipe


def test_out_path_is_written_atomically(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "r.html"
    path = build_report(run_dir, out=out)
    assert path == out and out.stat().st_size > 1_000_000
    assert [p.name for p in out.parent.iterdir()] == ["r.html"], "no temp file may be left behind"


# --- missing files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["summary.json", "leaderboard.csv"])
def test_missing_required_file_raises_artifact_error(copy_run: Path, name: str) -> None:
    (copy_run / name).unlink()
    with pytest.raises(ArtifactError, match=re.escape(name)):
        build_report(copy_run)
    assert not (copy_run / "report.html").exists()


def test_missing_run_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no run directory"):
        build_report(tmp_path / "nope")


def test_damaged_summary_raises(copy_run: Path) -> None:
    (copy_run / "summary.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        build_report(copy_run)


@pytest.mark.parametrize(
    ("name", "sid"),
    [("diagnostics.csv", "diagnostics"), ("history.csv", "curves"), ("results.csv", "restarts"), ("data.json", "data")],
)
def test_missing_optional_file_leaves_a_note(copy_run: Path, name: str, sid: str) -> None:
    (copy_run / name).unlink()
    text = build_report(copy_run).read_text(encoding="utf-8")
    section = _section(text, sid)
    assert '<p class="note">' in section and "not recorded" in section and name in section
    assert 'class="figure"' not in section
    for other, _ in SECTIONS:  # every other section is still there
        _section(text, other)


def test_diagnostics_without_rows_for_the_chosen_config(copy_run: Path) -> None:
    summary = json.loads((copy_run / "summary.json").read_text())
    diag = pd.read_csv(copy_run / "diagnostics.csv")
    diag[diag["key"] != summary["chosen"]["key"]].to_csv(copy_run / "diagnostics.csv", index=False)
    section = _section(build_report(copy_run).read_text(encoding="utf-8"), "diagnostics")
    assert "not recorded for the chosen config" in section


def test_the_why_box_gives_the_paired_comparison(copy_run: Path) -> None:
    summary = json.loads((copy_run / "summary.json").read_text())
    summary["paired"] = {"other_key": "k2", "other_label": "2x32", "relation": "best", "mean_diff": -0.0031,
                         "se_diff": 0.0012, "n": 3}
    (copy_run / "summary.json").write_text(json.dumps(summary))
    answer = html.unescape(_section(build_report(copy_run).read_text(encoding="utf-8"), "answer"))
    assert f"Paired restarts: {summary['chosen']['label']} vs the best, 2x32: -0.31 +/- 0.12 points" in answer


def test_paired_restarts_are_drawn_restart_by_restart(copy_run: Path) -> None:
    run = load_run(copy_run)
    chosen = str(run.summary["chosen"]["key"])
    other = next(k for k in run.leaderboard["key"].astype(str) if k != chosen)
    res = run.results.assign(key=run.results["key"].astype(str))
    fig = figures.paired_figure(res, run.leaderboard, chosen, other, percent=True, metric="accuracy")
    ok = res[~res["diverged"].astype(bool)]
    both = sorted(set(ok.loc[ok["key"] == chosen, "restart"]) & set(ok.loc[ok["key"] == other, "restart"]))
    assert [t.name for t in fig.data] == [f"restart {k}" for k in both]
    for k, trace in zip(both, fig.data):
        want = [100 * float(ok[(ok["key"] == key) & (ok["restart"] == k)]["val_score"].iloc[0]) for key in (other, chosen)]
        np.testing.assert_allclose(trace.y, want)
    # In the report, under the restart spread, when the summary holds a pairing.
    summary = json.loads((copy_run / "summary.json").read_text())
    summary["paired"] = {"other_key": other, "other_label": "rival", "relation": "best", "mean_diff": -0.004,
                         "se_diff": 0.002, "n": len(both)}
    (copy_run / "summary.json").write_text(json.dumps(summary))
    section = _section(build_report(copy_run).read_text(encoding="utf-8"), "restarts")
    assert "Paired restarts: the choice and the best" in section and 'id="fig-paired"' in section
    assert f"-0.40 +/- 0.20 points over {len(both)} pairs" in html.unescape(section)


def test_diagnostics_section_of_a_linear_choice_says_why_it_is_empty(copy_run: Path) -> None:
    summary = json.loads((copy_run / "summary.json").read_text())
    summary["chosen"]["depth"], summary["chosen"]["widths"] = 0, []
    (copy_run / "summary.json").write_text(json.dumps(summary))
    section = _section(build_report(copy_run).read_text(encoding="utf-8"), "diagnostics")
    assert "no hidden layer" in section and 'class="figure"' not in section


def test_the_leaderboard_names_a_linear_models_widths_none(copy_run: Path) -> None:
    # leaderboard.csv leaves the linear model's widths empty, which pandas reads as NaN; with only
    # one-layer configs beside it, the column is read as floats (64.0).
    board = pd.read_csv(copy_run / "leaderboard.csv", dtype={"widths": str})
    board["widths"] = [w.split("-")[0] for w in board["widths"]]  # one hidden layer each ...
    board["depth"] = 1
    board.loc[0, ["depth", "widths"]] = [0, ""]  # ... and the linear model
    board.to_csv(copy_run / "leaderboard.csv", index=False)
    assert pd.read_csv(copy_run / "leaderboard.csv")["widths"].dtype == float
    answer = _section(build_report(copy_run).read_text(encoding="utf-8"), "answer")
    section = answer[answer.index('<table class="leaderboard">'):answer.index('<table class="recipe">')]  # not the recipe's cells
    assert re.findall(r"<td>0</td><td>([^<]*)</td>", section) == ["none"]
    shown = re.findall(r"<td>1</td><td>([^<]*)</td>", section)
    assert sorted(shown) == sorted(board["widths"].iloc[1:]) and all(w.isdigit() for w in shown)  # 16, not 16.0
    # The rank is a cell of its own class, which the style keeps on one line ("10" wrapped into "1 0").
    ranks = re.findall(r"<td class=rank>(\d+)</td>", section)
    assert ranks and ranks == [str(i) for i in range(1, len(ranks) + 1)]
    assert re.search(r"td\.rank, th\.rank \{[^}]*white-space: nowrap", (SRC_REPORT / "style.css").read_text())


# --- escaping ----------------------------------------------------------------------------------


def test_hostile_strings_are_escaped_everywhere(tmp_path: Path) -> None:
    run = write_run(tmp_path / "hostile", hostile=True)
    text = build_report(run).read_text(encoding="utf-8")
    assert HOSTILE not in text
    assert text.count("</script>") == 2
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    data = _section(text, "data")
    assert data.count(escaped) >= 3  # source, a feature name, a class label
    assert escaped in _section(text, "answer")  # the config label in the leaderboard
    # In the figure JSON the label is HTML-escaped for plotly, and the JSON escapes its '<', '&'.
    assert "\\u0026lt;script\\u0026gt;" in text


@given(st.text())
@settings(max_examples=200, deadline=None)
def test_safe_json_round_trips_and_cannot_close_a_script(s: str) -> None:
    raw = json.dumps({"s": s})
    safe = safe_json(raw)
    assert json.loads(safe) == {"s": s}
    assert not any(c in safe for c in "<>&\u2028\u2029")


# --- the figures' numbers ----------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 20)), min_size=1, max_size=25))
@settings(max_examples=200, deadline=None)
def test_pareto_front_matches_brute_force(points: list[tuple[int, int]]) -> None:
    params = np.array([p for p, _ in points], dtype=float)
    score = np.array([s for _, s in points], dtype=float)
    front = figures.pareto_front(params, score)
    # Oracle: a point is on the front when every point with fewer or equal params scores lower,
    # keeping one representative per (params, score) tie.
    expected = set()
    for i in range(len(points)):
        dominated = any(
            (params[j] < params[i] and score[j] >= score[i]) or (params[j] == params[i] and score[j] > score[i])
            for j in range(len(points))
        )
        if not dominated:
            expected.add((params[i], score[i]))
    assert {(params[i], score[i]) for i in front} == expected
    assert len(front) == len(expected)
    assert np.all(np.diff(params[front]) > 0) and np.all(np.diff(score[front]) > 0)


def test_complexity_figure_plots_the_leaderboard(run_dir: Path) -> None:
    run = load_run(run_dir)
    board, key = run.leaderboard, run.summary["chosen"]["key"]
    fig = figures.complexity_figure(board, key, percent=True, metric="accuracy")
    pts = next(t for t in fig.data if t.name.startswith("config"))
    ok = board[np.isfinite(board["val_mean"])]
    np.testing.assert_allclose(pts.x, ok["params"])
    np.testing.assert_allclose(pts.y, 100 * ok["val_mean"])
    np.testing.assert_allclose(pts.error_y.array, 100 * ok["val_std"])
    assert fig.layout.xaxis.type == "log"
    best = board.loc[board["val_mean"].idxmax()]
    (band,) = fig.layout.shapes
    assert band.y0 == pytest.approx(100 * (best["val_mean"] - best["val_se"]))
    assert band.y1 == pytest.approx(100 * best["val_mean"])
    star = next(t for t in fig.data if t.name == "chosen")
    assert list(star.x) == [run.summary["chosen"]["params"]]
    # The far-behind config (a learning rate far too small) is marked below the axis, not lost.
    low = next(t for t in fig.data if t.name.startswith("far below"))
    assert len(low.x) >= 1 and min(fig.layout.yaxis.range) > 100 * board["val_mean"].min()


def test_heatmap_is_depth_by_first_width(run_dir: Path) -> None:
    board = load_run(run_dir).leaderboard
    fig = figures.heatmap_figure(board, "none", percent=False, metric="accuracy")
    heat = fig.data[0]
    assert list(heat.y) == ["1", "2", "3"] and list(heat.x) == ["8", "16", "32"]
    z = np.array(heat.z, dtype=float)
    # The funnel 32-16 sits in the width-32 column; each cell is the best mean of its configs.
    for (depth, width), group in board.assign(w=[int(str(w).split("-")[0]) for w in board["widths"]]).groupby(["depth", "w"]):
        cell = z[list(heat.y).index(str(depth)), list(heat.x).index(str(width))]
        assert cell == pytest.approx(group["val_mean"].max())
    assert np.isnan(z[1, 1])  # no depth-2, width-16 config was trained


def test_heatmap_puts_a_linear_model_in_a_none_column(run_dir: Path) -> None:
    board = load_run(run_dir).leaderboard
    linear = board.iloc[[0]].assign(key="linear000000", label="linear", depth=0, widths=np.nan, val_mean=0.5)
    fig = figures.heatmap_figure(pd.concat([board, linear], ignore_index=True), "linear000000", percent=False, metric="accuracy")
    heat = fig.data[0]
    assert list(heat.y) == ["0", "1", "2", "3"] and list(heat.x) == ["none", "8", "16", "32"]
    assert np.array(heat.z, dtype=float)[0, 0] == pytest.approx(0.5)
    (chosen,) = fig.data[1:]
    assert list(chosen.x) == ["none"] and list(chosen.y) == ["0"]
    assert figures.first_width(float("nan")) == 0 and figures.first_width([]) == 0 and figures.first_width("32-16") == 32


def test_complexity_figure_draws_the_baseline_only_when_near(run_dir: Path) -> None:
    run = load_run(run_dir)
    board, key = run.leaderboard, run.summary["chosen"]["key"]
    near_value = float(board["val_mean"].max()) - 0.05
    near = figures.complexity_figure(board, key, percent=True, metric="accuracy",
                                     baseline={"kind": "majority class", "val_score": near_value})
    line = [sh for sh in near.layout.shapes if sh.type == "line"]
    assert len(line) == 1 and line[0].y0 == pytest.approx(100 * near_value)
    assert min(near.layout.yaxis.range) < 100 * near_value < max(near.layout.yaxis.range)
    assert any(t.name == "no network (majority class)" for t in near.data)
    far = figures.complexity_figure(board, key, percent=True, metric="accuracy",
                                    baseline={"kind": "majority class", "val_score": -5.0})
    assert not [sh for sh in far.layout.shapes if sh.type == "line"]


def test_restarts_figure_shows_every_restart(run_dir: Path) -> None:
    run = load_run(run_dir)
    res = run.results
    assert res is not None
    fig = figures.restarts_figure(res, run.leaderboard, run.summary["chosen"]["key"], percent=False, metric="accuracy")
    box = next(t for t in fig.data if t.type == "box")
    assert len(box.y) == int((~res["diverged"]).sum())
    assert sorted(box.y) == pytest.approx(sorted(res.loc[~res["diverged"], "val_score"]))
    div = next(t for t in fig.data if t.name == "diverged")
    assert len(div.x) == int(res["diverged"].sum()) >= 1


def test_curves_figure_follows_history(run_dir: Path) -> None:
    run = load_run(run_dir)
    key = run.summary["chosen"]["key"]
    history = run.history
    assert history is not None
    fig = figures.curves_figure(history, key, percent=False, metric="accuracy")
    mine = history[history["key"] == key]
    for restart, h in mine.groupby("restart"):
        traces = [t for t in fig.data if t.legendgroup == f"r{restart}"]
        assert len(traces) == 3  # train loss, val loss, val score
        np.testing.assert_allclose(traces[0].y, h["train_loss"])
        np.testing.assert_allclose(traces[1].y, h["val_loss"])
        np.testing.assert_allclose(traces[2].y, h["val_score"])


def test_diagnostics_by_layer_averages_first_and_last_epoch(run_dir: Path) -> None:
    run = load_run(run_dir)
    diag = run.diagnostics
    assert diag is not None
    key = next(k for k in run.leaderboard["key"] if len(str(run.leaderboard.set_index("key").at[k, "widths"]).split("-")) == 3)
    table = figures.diagnostics_by_layer(diag, key)
    mine = diag[diag["key"] == key]
    for layer in (1, 2, 3):  # 1-based hidden layers
        start = mine[(mine["epoch"] == 0) & (mine["layer"] == layer)]
        got = table[(table["stage"] == "start") & (table["layer"] == layer)].iloc[0]
        assert got["effective_width"] == pytest.approx(start["effective_width"].mean())
        ends = [g[g["epoch"] == g["epoch"].max()] for _, g in mine.groupby("restart")]
        end = pd.concat(ends)
        got = table[(table["stage"] == "end") & (table["layer"] == layer)].iloc[0]
        assert got["dead_fraction"] == pytest.approx(end.loc[end["layer"] == layer, "dead_fraction"].mean())
        assert got["act_std"] == pytest.approx(end.loc[end["layer"] == layer, "act_std"].mean())
    fig = figures.diagnostics_figure(diag, key, [8, 8, 8])
    assert [a.text for a in fig.layout.annotations] == ["effective width", "dead units (fraction)", "activation std"]


# --- the network drawing -----------------------------------------------------------------------


@given(st.integers(0, 500), st.integers(2, 40))
def test_drawn_units_account_for_every_unit(n: int, cap: int) -> None:
    shown, rest = drawn_units(n, cap)
    assert shown + rest == n
    assert shown + (1 if rest else 0) <= cap
    assert rest == 0 or shown == cap - 1


def test_network_svg_draws_layers_and_elides_wide_ones() -> None:
    svg = network_svg(64, [32, 5], 10, activation="relu")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="unit unit-input"') == 15 and "…+49" in svg
    assert svg.count('class="unit unit-hidden"') == 15 + 5 and "…+17" in svg
    assert svg.count('class="unit unit-output"') == 10
    assert svg.count("<line ") == 15 * 15 + 15 * 5 + 5 * 10  # fully connected between drawn units
    for text in ("input", "hidden 1", "hidden 2", "output", "64 features", "32 · relu", "10 outputs"):
        assert f">{text}<" in svg


def test_network_svg_escapes_text_and_handles_unknown_sizes() -> None:
    svg = network_svg(None, [4], None, activation=HOSTILE, title=HOSTILE)
    assert HOSTILE not in svg and "&lt;script&gt;" in svg
    assert svg.count('class="unit unit-hidden"') == 4 and ">? features<" in svg
    assert math.isfinite(float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1)))


def test_regression_run_and_sparse_files(copy_run: Path) -> None:
    """A regression summary (R^2, not a percentage), a data.json of unknown shape, a lean leaderboard."""
    summary = json.loads((copy_run / "summary.json").read_text())
    summary.update(task="regression", test_metric="r2", metric="r2", test_score=0.8123456, test_metrics={"r2": 0.8123456, "rmse": 1.5})
    (copy_run / "summary.json").write_text(json.dumps(summary))
    (copy_run / "data.json").write_text(json.dumps({"source": "house.csv", "task": "regression", "extra": {"a": [1, 2]}}))
    board = pd.read_csv(copy_run / "leaderboard.csv")
    board.drop(columns=["val_std", "val_se", "label", "p_good", "flops"]).to_csv(copy_run / "leaderboard.csv", index=False)
    text = build_report(copy_run).read_text(encoding="utf-8")
    answer = _section(text, "answer")
    assert "0.8123" in answer and "rmse 1.5" in answer and "%" not in answer.split("test r2")[1][:80]
    data = _section(text, "data")
    assert "house.csv" in data and "extra" in data


def test_diagnostics_section_says_which_layers_were_sampled(copy_run: Path) -> None:
    summary = json.loads((copy_run / "summary.json").read_text())
    key = summary["chosen"]["key"]
    diag = pd.read_csv(copy_run / "diagnostics.csv")
    section = _section(build_report(copy_run).read_text(encoding="utf-8"), "diagnostics")
    assert "estimated from" not in section  # no column: every pair of units was compared
    diag["symmetry_units"] = np.where((diag["key"] == key) & (diag["layer"] == 1), 1024, np.nan)
    diag.to_csv(copy_run / "diagnostics.csv", index=False)
    section = _section(build_report(copy_run).read_text(encoding="utf-8"), "diagnostics")
    width = int(str(summary["chosen"]["widths"]).strip("[]()").split(",")[0])
    assert f"layer 1: effective width estimated from 1,024 of {width:,} units" in html.unescape(section)
    assert "layer 2:" not in html.unescape(section)


# --- each config paired with the best (a real search: the figure needs per-row evidence) ----------


@pytest.fixture(scope="module", params=[False, True], ids=["restarts", "ensembles"])
def searched_run(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A tiny real search on iris (one validation split of 30 rows, 4 configs x 3 restarts): its run
    directory holds the per-row evidence the noise model reads, and the report built from it; the
    rule judging the restarts (``judge_ensembles=False``), or the configs' ensembles (the default)."""
    from justenough import search

    out = tmp_path_factory.mktemp("searched") / "iris"
    search("iris", depth="0-1", widths="4,8,16", max_epochs="20", lr="0.01", n_init=3, workers=1, cv=1, out=out,
           judge_ensembles=request.param)
    return out


def test_a_report_judged_by_ensembles_says_what_its_scores_are(searched_run: Path, tmp_path: Path) -> None:
    html = build_report(searched_run, tmp_path / "report.html").read_text(encoding="utf-8")
    judged = load_run(searched_run).summary_fields.judged_by
    assert judged in ("restarts", "ensembles")
    # The answer card, the leaderboard's header, the score-vs-size figure's legend (plotly's JSON) and
    # caption, and the "paired with the best" text.
    says = ["its ensemble of 3 restarts", "val ensemble<br>restarts&#x27; mean ± std",
            "config (its ensemble's score \\u00b1 SE)", "Each config&#x27;s ensemble",
            "the model the search returns), with that score"]
    for text in says:
        assert (text in html) == (judged == "ensembles"), text
    # The restarts' outputs are kept as evidence only where the choice judges ensembles.
    from justenough.study.weights import EvidenceStore

    kept = EvidenceStore(searched_run).of_config(str(load_run(searched_run).leaderboard["key"].iloc[0]))
    assert kept and all(("output" in arrays) == (judged == "ensembles") for arrays in kept.values())


def test_differences_figure_draws_each_config_minus_the_best_as_the_rule_saw_it(searched_run: Path) -> None:
    from justenough.run.files import read_evidence
    from justenough.select import paired_noise

    run = load_run(searched_run)
    board, chosen = run.leaderboard, str(run.summary["chosen"]["key"])
    evidence = read_evidence(searched_run, run.results, run.summary_fields)  # as the rule read it
    best = paired_with_best.best_config_key(board, chosen, run.summary.get("paired"), run.summary.get("limits"))
    fig = paired_with_best.differences_figure(board, evidence, chosen, best, percent=True, metric="accuracy")
    by_name = {t.name: t for t in fig.data}
    # Every config but the best is drawn once, at its parameters, with the noise model's paired
    # difference (the config minus the best, in points), its 68% band and the rows' part of its SE.
    rows_part = by_name[paired_with_best.ROWS_PART]
    params_of = dict(zip(board["key"].astype(str), board["params"].astype(float)))
    others = [k for k in board["key"].astype(str) if k != best]
    assert sorted(rows_part.x) == sorted(params_of[k] for k in others)
    drawn = [t for t in fig.data if t.name.startswith(("as good as the best", "behind the best"))]
    assert sum(len(t.x) for t in drawn) == len(others)
    within: set[str] = set()
    for trace in drawn:
        for x, y, bar in zip(trace.x, trace.y, trace.error_y.array):
            (key,) = [k for k in others if params_of[k] == x]
            noise = paired_noise(evidence, key, best)
            assert y == pytest.approx(100 * noise.mean) and bar == pytest.approx(100 * noise.band)
            assert bar >= 100 * noise.se - 1e-9  # the band is never narrower than one SE
            # Blue where the rule counts it as good as the best: within its room (judged as
            # ensembles, the rows' band alone; else the band).
            assert trace.name.startswith("as good") == (-noise.mean <= noise.room + 1e-12)
            if trace.name.startswith("as good"):
                within.add(key)
    for x, y, bar in zip(rows_part.x, rows_part.y, rows_part.error_y.array):
        (key,) = [k for k in others if params_of[k] == x]
        noise = paired_noise(evidence, key, best)
        # The thick bar: the rows' part of the SE; judged as ensembles, the rows' band (the room).
        assert bar == pytest.approx(100 * (noise.band_rows if noise.ensembles else noise.se_rows))
    # The best sits at 0, and the chosen config is the simplest of the best and those within its band.
    assert list(by_name["the best (mean)"].x) == [params_of[best]] and list(by_name["the best (mean)"].y) == [0.0]
    star = by_name["chosen"]
    assert list(star.x) == [params_of[chosen]]
    assert params_of[chosen] == min(params_of[k] for k in within | {best})
    assert fig.layout.xaxis.type == "log"


def test_best_config_key_follows_the_summary_and_the_limits(searched_run: Path) -> None:
    run = load_run(searched_run)
    board = run.leaderboard
    ranked = board.sort_values(["val_mean", "params"], ascending=[False, True])
    top, second = str(ranked["key"].iloc[0]), str(ranked["key"].iloc[1])
    some = str(board["key"].iloc[-1])
    # The summary's pairing names the best when the choice is not the best; else the choice is the best.
    assert paired_with_best.best_config_key(board, some, {"other_key": second, "relation": "best"}) == second
    assert paired_with_best.best_config_key(board, some, {"other_key": second, "relation": "best simpler"}) == some
    # Without a pairing: the highest mean within the limits.
    assert paired_with_best.best_config_key(board, some) == top
    smaller = board[board["params"] < float(board.loc[board["key"].astype(str) == top, "params"].iloc[0])]
    if len(smaller):  # a limit below the top config's size leaves the best of the smaller ones
        limit = {"max_params": int(smaller["params"].max()), "max_latency_ms": None}
        want = smaller.sort_values(["val_mean", "params"], ascending=[False, True])["key"].iloc[0]
        assert paired_with_best.best_config_key(board, some, None, limit) == str(want)


def test_the_report_pairs_every_config_with_the_best_under_score_vs_complexity(searched_run: Path, run_dir: Path,
                                                                                tmp_path: Path) -> None:
    section = _section(build_report(searched_run, tmp_path / "searched.html").read_text(encoding="utf-8"), "complexity")
    assert "<h3>Paired with the best</h3>" in section and 'id="fig-differences"' in section
    assert section.index('id="fig-complexity"') < section.index('id="fig-differences"')
    # A run without per-row evidence (the numpy fixture, like a run from before it was kept) says so.
    section = _section(build_report(run_dir, tmp_path / "old.html").read_text(encoding="utf-8"), "complexity")
    assert "kept no per-row validation evidence" in section and 'id="fig-differences"' not in section
