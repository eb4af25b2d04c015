"""What the commands print about a run: scores and counts formatted one way, the leaderboard as a
rich table, and the outcome (the choice and why, the test score, where the files are).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from rich.console import Console
from rich.table import Table

from justenough.cli.app import cli_text
from justenough.display_numbers import counted, finite_or_none
from justenough.run.summary import Summary
from justenough.vocab import NumericScaling

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LEADERBOARD_ROWS", "fmt_score", "fmt_int", "leaderboard_table", "recipe_table", "print_outcome"]

LEADERBOARD_ROWS = 25


def fmt_score(value: Any, percent: bool) -> str:
    f = finite_or_none(value)
    if f is None:
        return "-"
    return f"{100 * f:.1f}%" if percent else f"{f:.4f}"


def _fmt_spread(value: Any, percent: bool) -> str:
    f = finite_or_none(value)
    if f is None:
        return ""
    return f" +/- {100 * f:.1f}" if percent else f" +/- {f:.4f}"


def _fmt_seconds(value: Any) -> str:
    from justenough.display_numbers import format_seconds

    return format_seconds(finite_or_none(value))


def fmt_int(value: Any) -> str:
    f = finite_or_none(value)
    return "-" if f is None else f"{int(f):,}"


def _flag_column(board: "pd.DataFrame", name: str) -> list[bool]:
    """A yes/no column (``chosen``, ``pruned``) of a leaderboard, booleans already (the search's, or
    ``run.files``' typed read); a table without the column says no."""
    return list(board[name]) if name in board.columns else [False] * len(board)


def _se_text(row: Any, percent: bool) -> str:
    """The SE of a config's mean and its parts: ``0.5 (0.4, 0.2)`` (points of accuracy) from the
    noise model, or the restarts' SE alone for a run without per-row evidence."""
    se = finite_or_none(row.get("val_se"))
    if se is None:
        return ""
    text = _fmt_spread(se, percent).replace(" +/- ", "")
    rows, restarts = finite_or_none(row.get("val_se_rows")), finite_or_none(row.get("val_se_restarts"))
    if rows is not None and restarts is not None:
        text += f" ({_fmt_spread(rows, percent).replace(' +/- ', '')}, {_fmt_spread(restarts, percent).replace(' +/- ', '')})"
    return text


def leaderboard_table(board: "pd.DataFrame", summary: Summary | Mapping[str, Any], *,
                      limit: int | None = LEADERBOARD_ROWS) -> Table:
    """The leaderboard as a rich table in its order (best first, as the search and leaderboard.csv
    hold it: ``select.best_first``), the chosen row marked.

    Columns: config, params, validation mean +/- std over restarts (judged by ensembles: the
    ensemble's score and SE, then the restarts' mean +/- std, and no best restart), best restart, diverged
    restarts, training time (all restarts), and how it was trained: the learning rate (and
    schedule and label smoothing), the mean epochs run and why the restarts stopped, with ``recipe``'s flags
    (under-trained?, stopped at once?) in the last column. With ``limit``, the top rows plus the
    chosen one. ``summary``: the run's, or ``summary.json``'s object (the metric and ``n_init`` are read).
    """
    from justenough.cli.labels import table_labels
    from justenough.select.ensemble_noise import judged_as_ensembles
    from justenough.training_recipe import epochs_text, lr_text
    from justenough.run.files import LEADERBOARD

    if not isinstance(summary, Summary):
        summary = Summary.from_json(summary)
    percent = summary.percent
    metric = summary.shown_metric or "score"
    board = board.copy()
    board["_label"] = table_labels(board)  # the progress line's label, plus the settings that differ
    board["_chosen"] = _flag_column(board, "chosen")
    board["_pruned"] = _flag_column(board, "pruned")
    # --lr-per-config: a family's other learning rates, shown but never chosen (select/lr_choice.py).
    board["_other_lr"] = [not kept for kept in board["lr_kept"]] if "lr_kept" in board.columns else False
    board = board.reset_index(drop=True)
    shown = board if limit is None or len(board) <= limit else board.head(limit)
    if limit is not None and len(board) > limit and not shown["_chosen"].any():
        shown = board[board.index.isin(shown.index) | board["_chosen"]]
    n_restarts = int(summary.n_init or (board["n_restarts"].max() if "n_restarts" in board.columns else 0))
    title = f"leaderboard: validation {metric} over {counted(n_restarts, 'restart')}"
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("config")
    table.add_column("params", justify="right")
    # Judged by ensembles: the score is each config's ensemble's (its SE too), the restarts' beside it.
    ensembles = judged_as_ensembles(board)
    if ensembles:
        table.title = f"leaderboard: validation {metric} of each config's ensemble of {counted(n_restarts, 'restart')}"
        table.add_column("ensemble", justify="right")
        table.add_column("SE (rows, restarts)", justify="right")
        table.add_column("restarts: mean +/- std", justify="right")  # their best left out: the model is the mean
    else:
        table.add_column(f"val {metric} mean +/- std", justify="right")
        table.add_column("SE (rows, restarts)", justify="right")
        table.add_column("best", justify="right")
    table.add_column("diverged", justify="right")
    table.add_column("time", justify="right")
    table.add_column("lr", justify="right")
    table.add_column("epochs (stopped)", justify="right")
    table.add_column("")
    for _, row in shown.iterrows():
        chosen = row["_chosen"]
        n = fmt_int(row.get("n_restarts"))
        note = "<- chosen" if chosen else ("pruned" if row["_pruned"] else ("other lr" if row["_other_lr"] else ""))
        flag = row.get("training_flag")
        if isinstance(flag, str) and flag:
            note = f"{note} {flag}".strip()
        best = fmt_score(row.get("val_max"), percent)
        scores = ([fmt_score(row.get("val_mean"), percent), _se_text(row, percent),
                   fmt_score(row.get("val_mean_restarts"), percent) + _fmt_spread(row.get("val_std"), percent)]
                  if ensembles else
                  [fmt_score(row.get("val_mean"), percent) + _fmt_spread(row.get("val_std"), percent), _se_text(row, percent), best])
        table.add_row(
            str(row["_label"]),
            fmt_int(row.get("params")),
            *scores,
            f"{fmt_int(row.get('n_diverged'))}/{n}",
            _fmt_seconds(row.get("train_time")),
            lr_text(row.get("lr"), row.get("schedule"), row.get("label_smoothing")),
            epochs_text(row.get("epochs_run"), row.get("stopped_by")),
            note,
            style="bold green" if chosen else None,
        )
    if len(shown) < len(board):
        table.caption = f"{counted(len(board) - len(shown), 'more config')} in {LEADERBOARD}"
        table.caption_justify = "left"
    return table


def recipe_table(board: "pd.DataFrame", summary: Summary | Mapping[str, Any]) -> Table:
    """Every setting the chosen config was trained with, and the values its search tried where
    configs differed (``run/recipe_table.recipe_rows``), as a rich table for ``show``."""
    from justenough.run.recipe_table import recipe_rows

    table = Table(title="recipe of the chosen config", title_justify="left", header_style="bold")
    table.add_column("setting")
    table.add_column("chosen")
    table.add_column("tried")
    for row in recipe_rows(board, summary):
        table.add_row(row.setting, row.chosen, row.tried)
    return table


def print_outcome(console: Console, board: "pd.DataFrame", summary: Summary, run_dir: Path | None, *, quiet: bool = False) -> None:
    """The leaderboard, the choice and why, the test score, and where the files are."""
    percent = summary.percent
    if not quiet:
        console.print(leaderboard_table(board, summary))
        console.print()
    chosen = summary.chosen
    from justenough.space.labels import config_label

    label = config_label(chosen, ("activation", "init"))  # a linear model has no hidden activation to show
    console.print(f"[bold]chosen:[/] {label} ({fmt_int(chosen.get('params'))} params)", highlight=False)
    if summary.explanation:
        console.print(f"[bold]why:[/] {summary.explanation}", highlight=False, soft_wrap=True)
    growth = summary.growth
    if growth:  # --strategy grow: where growth stopped, and how many configs it did not need
        console.print(f"[bold]growth:[/] {growth.explanation}; {counted(len(growth.path), 'config')} trained, "
                      f"{len(growth.not_needed)} not needed", highlight=False, soft_wrap=True)
    if summary.paired:
        from justenough.select import describe_paired

        console.print(f"[bold]paired:[/] {describe_paired(summary.paired, str(chosen.get('label')), percent)}",
                      highlight=False, soft_wrap=True)
    metric = summary.shown_metric or "score"
    n_test = (summary.split_sizes or {}).get("test")
    rows = f" on {n_test} held-out rows" if n_test else ""
    n_scored = int(summary.test_models_scored or 1)  # runs before the count scored one model
    where = (
        " (the validation rows: no independent test split, so optimistic)"
        if summary.test_split == "validation"
        else " (sealed test split, scored once)"
        if n_scored == 1
        else f" (sealed test split, which has now scored {n_scored} models: no longer an unbiased estimate)"
    )
    console.print(f"[bold]test {metric}:[/] {fmt_score(summary.test_score, percent)}{rows}{where}", highlight=False)
    fit = summary.model
    if isinstance(fit, dict) and fit.get("fit_on"):  # which model the test scored (refit.py)
        from justenough.run.summary import describe_fit

        console.print(f"[bold]tested model:[/] {describe_fit(fit)}", highlight=False)
    if summary.numeric and summary.numeric != NumericScaling.STANDARD:  # the default is not named (as before)
        from justenough.data.numeric_scaling import describe_scaling

        console.print(f"[bold]numeric columns:[/] {describe_scaling(NumericScaling(summary.numeric))}", highlight=False)
    if summary.baseline:
        from justenough.select.baseline import describe

        console.print(f"[bold]no network:[/] {describe(summary.baseline, percent)} on validation", highlight=False)
    for notice in summary.notices or []:
        console.print(f"[bold yellow]note:[/] {cli_text(notice)}", highlight=False, soft_wrap=True)
    if run_dir is not None:
        from justenough.run.files import MODEL_DIR, REPORT

        report = run_dir / REPORT
        if report.exists():
            console.print(f"[bold]report:[/] {report}", highlight=False)
        console.print(f"[bold]model:[/] {run_dir / MODEL_DIR}", highlight=False)
