"""The commands that look at a finished run: ``show`` (the leaderboard and the outcome),
``compare`` (two configs, restart by restart) and ``report`` (the HTML report, rebuilt)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table

from justenough.cli.app import app, err, out_console
from justenough.cli.arguments import checked_run_dir
from justenough.cli.display import LEADERBOARD_ROWS, leaderboard_table, print_outcome, recipe_table
from justenough.errors import ArtifactError, ConfigError
from justenough.display_numbers import counted, decimals_to_show

if TYPE_CHECKING:
    import pandas as pd

    from justenough.run.summary import Summary

__all__ = ["show", "compare", "report"]


def _read_run(run_dir: Path) -> tuple["pd.DataFrame", "Summary"]:
    """``leaderboard.csv`` and ``summary.json`` of a run, with clear errors when they are missing."""
    from justenough.run.files import read_leaderboard, read_summary

    summary = read_summary(run_dir)
    return read_leaderboard(run_dir), summary


@app.command()
def show(
    run: Path = typer.Argument(..., metavar="RUN", help="A run directory written by search. Example: runs/iris"),
    top: int = typer.Option(LEADERBOARD_ROWS, "--top", min=1, help="Rows of the leaderboard to show (the chosen one always). Example: --top 10"),
) -> None:
    """Show a finished run in the terminal: the leaderboard, the choice and why, the test score.

    Example: justenough show runs/iris
    """
    run_dir = checked_run_dir(run)
    board, summary = _read_run(run_dir)
    console = out_console()
    source = _data_source(run_dir)
    console.print(f"[bold]run:[/] {run_dir}" + (f"   [bold]data:[/] {source}" if source else ""), highlight=False)
    console.print(leaderboard_table(board, summary, limit=top))
    console.print()
    console.print(recipe_table(board, summary))
    console.print()
    print_outcome(console, board, summary, run_dir, quiet=True)


def _data_source(run_dir: Path) -> Any:
    """Where the run's data came from (``data.json``'s source), or None: ``show`` does without it."""
    from justenough.run.files import read_data

    try:
        data = read_data(run_dir)
    except ArtifactError:  # unreadable: the line names the run alone
        return None
    return None if data is None else data.get("source")


@app.command()
def compare(
    run: Path = typer.Argument(..., metavar="RUN", help="A run directory written by search. Example: runs/iris"),
    first: str = typer.Argument(..., metavar="A", help="A config of the run, by label or key. Example: 1x128"),
    second: str = typer.Argument(..., metavar="B", help="Another config, by label or key. Example: 1x32"),
) -> None:
    """Compare two configs of a run restart by restart: restart k of each shares seed stream k.

    Prints each pair of restarts and the paired difference A - B (mean and standard error), next
    to the unpaired one: the pairing cancels the luck the two configs share.

    Example: justenough compare runs/digits 1x128 1x32
    """
    from justenough.run.files import read_evidence, read_results
    from justenough.select import format_difference, paired_difference, paired_noise, paired_scores

    run_dir = checked_run_dir(run)
    board, summary = _read_run(run_dir)
    results = read_results(run_dir)
    key_a, label_a = _config_named(board, first)
    key_b, label_b = _config_named(board, second)
    if key_a == key_b:
        raise ConfigError(f"{first!r} and {second!r} are the same config ({label_a}): give two different ones")
    percent = summary.percent
    scale = 100.0 if percent else 1.0
    d = paired_difference(results, key_a, key_b)
    table = Table(title=f"{label_a} vs {label_b}, by restart")
    for col in ("restart", label_a, label_b, "A - B"):
        table.add_column(col, justify="right")

    scores = paired_scores(results, key_a, key_b, pairs_only=False)  # by restart: a, b (NaN: diverged or missing)
    # Enough decimals that no difference reads as zero and no two different scores look equal
    # (r2 0.8512 against 0.8547 is -0.0035, not -0.00); the usual places when those suffice.
    differences = [scale * (a - b) for a, b in zip(scores["a"], scores["b"])] + [scale * d["mean_diff"]]
    places = decimals_to_show(differences, at_least=2)
    score_places = decimals_to_show(differences, at_least=1 if percent else 4)
    for k, a, b in zip(scores.index, scores["a"], scores["b"]):
        diff = f"{scale * (a - b):+.{places}f}" if math.isfinite(a) and math.isfinite(b) else "unpaired"
        table.add_row(str(k), _score(a, percent, score_places), _score(b, percent, score_places), diff)
    console = out_console()
    console.print(table)
    if not d["n"]:
        console.print("no restart of one config has a partner in the other (diverged or missing): nothing to pair", highlight=False)
        return
    rows = board.set_index("key")
    unpaired = math.sqrt(sum(rows.at[k, "val_se"] ** 2 for k in (key_a, key_b)))
    shown = max(places, 2 if percent else 3)  # enough decimals for the difference (decimals_to_show)
    unpaired_text = f" (unpaired: +/- {scale * unpaired:.{shown}f} SE)" if math.isfinite(unpaired) else ""
    alone = (f"{format_difference(d['mean_diff'], d['se_diff'], percent, places=shown)} SE over "
             f"{counted(int(d['n']), 'restart')} paired by seed")
    noise = paired_noise(read_evidence(run_dir, results, summary), key_a, key_b)
    if noise is None:  # a run from before the per-row evidence was kept
        console.print(f"[bold]paired:[/] {label_a} - {label_b} = {alone}{unpaired_text}", highlight=False, soft_wrap=True)
        return
    console.print(
        f"[bold]paired:[/] {label_a} - {label_b} = {format_difference(noise.mean, noise.se, percent, places=shown)} SE "
        + (f"between the two ensembles of their restarts (the models the search would return), paired over "
           f"{noise.n_rows:,} validation rows, the restarts' part by leaving out each of {noise.n_restarts} in turn "
           if summary.judged_by == "ensembles" else
           f"over {noise.n_rows:,} validation rows x {counted(noise.n_restarts, 'restart')}, paired by row and seed ")
        + f"(SE parts: rows {scale * noise.se_rows:.{shown}f}, restarts {scale * noise.se_restarts:.{shown}f})"
        + unpaired_text,
        highlight=False,
        soft_wrap=True,  # one line, whatever the terminal's width: it is read and quoted whole
    )
    console.print(f"restarts alone: {alone} (it leaves out which rows happened to validate)", highlight=False, soft_wrap=True)


def _score(value: float, percent: bool, places: int) -> str:
    """One restart's score to ``places`` decimals (a percent for accuracy); ``-`` when it has none."""
    if not math.isfinite(value):
        return "-"
    return f"{100 * value:.{places}f}%" if percent else f"{value:.{places}f}"


def _config_named(board: "pd.DataFrame", name: str) -> tuple[str, str]:
    """(key, label) of the leaderboard's config called ``name`` (a label or a key)."""
    keys = board["key"]
    labels = board["label"] if "label" in board.columns else keys
    hit = board[(keys == name) | (labels == name)]
    if len(hit) == 1:
        return hit["key"].iloc[0], (hit["label"] if "label" in hit.columns else hit["key"]).iloc[0]
    if len(hit) > 1:
        raise ConfigError(f"{name!r} names {len(hit)} configs of this run: give a key instead ({', '.join(hit['key'])})")
    raise ConfigError(f"no config {name!r} in this run: use a label or key from leaderboard.csv ({', '.join(labels)})")


@app.command()
def report(
    run: Path = typer.Argument(..., metavar="RUN", help="A run directory written by search. Example: runs/iris"),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the HTML (default: RUN/report.html). Example: --out iris.html"),
    open_: bool = typer.Option(False, "--open", help="Open the report in the web browser. Example: --open"),
) -> None:
    """Build (or rebuild) the HTML report of a run: one offline file with the answer and its evidence.

    Example: justenough report runs/iris --open
    """
    from justenough.report import build_report

    run_dir = checked_run_dir(run)
    path = Path(build_report(run_dir, out=out))
    typer.echo(f"report: {path}")
    if open_:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            err.print("note: no web browser could be opened; open the file above by hand", highlight=False)
