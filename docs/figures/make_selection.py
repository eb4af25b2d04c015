"""Make the figures of docs/selection.md with the tool itself: the report's figures of the choice.

    OMP_NUM_THREADS=1 .venv/bin/python docs/figures/make_selection.py [--out runs/selection]

Runs ``justenough.search`` on scikit-learn's bundled digits twice, with the default settings but
the cross-validation setting: ``cv=1`` (one validation split of 359 rows; what ``cv="auto"`` does
on digits) into ``--out``/cv1, and ``cv=5`` (five folds of the 1,438 rows outside the test split,
about 5x the time) into ``--out``/cv5. From each run directory it takes two of the report's
figures (``report.figures``): score vs size with the one-SE band, and each config's paired
difference to the best with its band and the rows' part of its SE. They are rendered to PNG in
docs/figures/ by headless Chromium (``--chromium``; none is downloaded):

    selection_band.png  selection_differences.png          (cv=1)
    selection_band_cv5.png  selection_differences_cv5.png  (cv=5)

and the numbers docs/selection.md quotes are printed. The searches took 43 s (cv=1) and 13 min
(cv=5) of training on a 2-core CPU shared with a benchmark; less on a quiet one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import plotly.graph_objects as go  # noqa: E402

from justenough.report import paired_with_best, figures  # noqa: E402
from justenough.run.files import load_run, read_evidence  # noqa: E402
from justenough.vocab import Task  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # chromium_png.py, beside this script (also when loaded by a test)

from chromium_png import png  # noqa: E402

# (run directory name under --out, cv, PNG suffix)
RUNS = (("cv1", 1, ""), ("cv5", 5, "_cv5"))


def selection_figures(run_dir: str | Path) -> dict[str, go.Figure]:
    """The report's figures of the choice for a finished run directory: ``"band"`` (score vs size
    with the one-SE band, ``figures.complexity_figure``) and ``"differences"`` (each config minus
    the best, paired by row and restart, ``paired_with_best.differences_figure``; left out when the run kept
    no per-row evidence). The same calls, with the same arguments, as the report's sections."""
    run = load_run(run_dir)
    s = run.summary_fields
    metric = s.shown_metric or ("accuracy" if s.task == Task.CLASSIFICATION else "r2")
    chosen = str(s.chosen["key"])
    out = {"band": figures.complexity_figure(run.leaderboard, chosen, percent=s.percent, metric=metric,
                                             baseline=s.baseline)}
    evidence = {} if run.results is None else read_evidence(run.run_dir, run.results)
    best = paired_with_best.best_config_key(run.leaderboard, chosen, s.paired, s.limits)
    if best in evidence:
        out["differences"] = paired_with_best.differences_figure(run.leaderboard, evidence, chosen, best, percent=s.percent,
                                                        metric=metric)
    return out


def selection_numbers(run_dir: str | Path) -> dict[str, Any]:
    """What docs/selection.md quotes of a run: the chosen config, its validation score with the SE
    and its parts, the best it was compared with and the paired difference, and the test score."""
    run = load_run(run_dir)
    s = run.summary_fields
    board = run.leaderboard.set_index(run.leaderboard["key"].astype(str))
    chosen = str(s.chosen["key"])
    best = paired_with_best.best_config_key(run.leaderboard, chosen, s.paired, s.limits)
    return {
        "chosen": str(board.at[chosen, "label"]), "params": int(board.at[chosen, "params"]),
        "val_mean": s.val_score_mean, "val_se": s.val_score_se, "val_se_rows": s.val_score_se_rows,
        "val_se_restarts": s.val_score_se_restarts, "val_rows": int(board.at[chosen, "val_rows"]),
        "best": str(board.at[best, "label"]), "paired": s.paired, "test_score": s.test_score,
        "model": s.model, "n_configs": len(board), "search_train_time": s.search_train_time,
    }



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/selection", help="where the two runs are saved")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--no-search", action="store_true",
                        help="render from the run directories an earlier call left under --out, without searching")
    args = parser.parse_args()

    import justenough

    for name, cv, suffix in RUNS:
        run_dir = Path(args.out) / name
        if not args.no_search:
            justenough.search("digits", cv=cv, out=run_dir)
        print(name, selection_numbers(run_dir))
        for figure, fig in selection_figures(run_dir).items():
            png(fig, HERE / f"selection_{figure}{suffix}.png", args.chromium)


if __name__ == "__main__":
    main()
