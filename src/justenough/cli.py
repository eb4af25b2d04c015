"""The command line: a thin layer over the Python API.

Commands: ``search``, ``show``, ``report``, ``predict``, ``export``, ``init-lab``, ``datasets``
(docs/cli.md has an example of each). Errors that are answers (``JustEnoughError``) print one
message and exit with their status (2 for bad input, 1 for run-time failures); usage errors
exit with 2; a traceback only with ``--debug``.

Heavy modules (torch, optuna, plotly) are imported inside the commands, so ``--help`` and
``--version`` stay fast.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from justenough import __version__
from justenough.errors import ArtifactError, ConfigError, DataError, JustEnoughError
from justenough.numbers import PERCENT_METRICS, finite_or_none
from justenough.search.space import DEFAULT_SPACE_TEXT
from justenough.vocab import Activation, Task, parse_device

__all__ = ["app", "main", "cli_text", "leaderboard_table", "default_out", "features_path", "split_specs", "SPACE_DEFAULTS"]

app = typer.Typer(
    name="justenough",
    help="Find the just-enough neural network: init schemes you can see, restarts as evidence, "
    "and the simplest depth x width that is good enough.\n\n"
    "Example: justenough search iris --depth 1-2 --widths 8,16,32",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
err = Console(stderr=True, soft_wrap=True)  # one message, one line: no wrapping at 80 columns
_state = {"debug": False}

# Defaults of the search space as the CLI writes them (the space module owns them; a test checks
# that they equal ``Space.default()``).
SPACE_DEFAULTS: dict[str, str] = dict(DEFAULT_SPACE_TEXT)
_DELIMITER_HELP = "The text file's delimiter (default: sniffed): ',' ';' tab or '|'. Example: --delimiter ';'"
_DECIMAL_HELP = (
    "The decimal mark, '.' or ',' (default: a decimal comma is detected when the delimiter is not a comma). "
    "Example: --decimal ,"
)
_ENCODING_HELP = "The text file's encoding (default: UTF-8 with or without BOM, else cp1252). Example: --encoding latin-1"
_LEADERBOARD_ROWS = 25


def _out_console() -> Console:
    """stdout; a log (not a terminal) gets wide lines so tables are not squeezed to 80 columns."""
    probe = Console()
    return probe if probe.is_terminal else Console(width=160)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"justenough {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors (may also follow the command)."),
) -> None:
    _state["debug"] = debug


# ----------------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------------


def default_out(data: str) -> Path:
    """``runs/<stem>``: ``iris`` -> ``runs/iris``, ``data/train.csv`` -> ``runs/train``."""
    stem = Path(str(data)).stem or "run"
    return Path("runs") / stem


def _is_dataset(name: str) -> bool:
    try:
        from justenough.data.datasets import is_dataset
    except ImportError:  # no bundled datasets in this build: only paths are data
        return False
    return bool(is_dataset(name))


def _check_data_arg(data: str, option: str = "DATA") -> None:
    """A path that exists or a bundled dataset name; anything else is a usage error now, not later."""
    if Path(data).exists() or _is_dataset(data):
        return
    raise DataError(f"{option} {data!r}: no such file, and not a bundled dataset name (see `justenough datasets`)")


def _run_dir(run: str | Path) -> Path:
    path = Path(run)
    if not path.is_dir():
        raise ArtifactError(f"no run directory at {path}: give the folder a search wrote (e.g. runs/iris)")
    return path


def _is_percent(summary: dict[str, Any]) -> bool:
    metric = str(summary.get("test_metric") or summary.get("metric") or "")
    if metric:
        return metric in PERCENT_METRICS
    return summary.get("task") == "classification"


def _fmt_score(value: Any, percent: bool) -> str:
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
    from justenough.cli_progress import format_seconds

    return format_seconds(finite_or_none(value))


def _fmt_int(value: Any) -> str:
    f = finite_or_none(value)
    return "-" if f is None else f"{int(f):,}"


def _config_labels(board: Any) -> list[str]:
    """The label (``2x32``) plus any setting that differs between configs (activation, lr, ...),
    written as the progress line writes it (``labels.py``)."""
    from justenough.labels import table_labels

    return table_labels(board)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    try:
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def leaderboard_table(board: Any, summary: dict[str, Any], *, limit: int | None = _LEADERBOARD_ROWS) -> Table:
    """The leaderboard as a rich table, best validation mean first, the chosen row marked.

    Columns: config, params, validation mean +/- std over restarts, best restart, diverged
    restarts, training time (all restarts), and how it was trained: the learning rate (and
    schedule), the mean epochs run and why the restarts stopped, with ``recipe``'s flags
    (under-trained?, stopped at once?) in the last column. With ``limit``, the top rows plus the
    chosen one.
    """
    from justenough.select import best_first
    from justenough.recipe import epochs_text, lr_text

    percent = _is_percent(summary)
    metric = str(summary.get("test_metric") or summary.get("metric") or "score")
    board = board.copy()
    board["_label"] = _config_labels(board)
    board["_chosen"] = [_truthy(v) for v in board["chosen"]] if "chosen" in board.columns else False
    board = best_first(board)
    shown = board if limit is None or len(board) <= limit else board.head(limit)
    if limit is not None and len(board) > limit and not shown["_chosen"].any():
        shown = board[board.index.isin(shown.index) | board["_chosen"]]
    n_restarts = int(summary.get("n_init") or (board["n_restarts"].max() if "n_restarts" in board.columns else 0))
    title = f"leaderboard: validation {metric} over {n_restarts} restarts"
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("config")
    table.add_column("params", justify="right")
    table.add_column(f"val {metric} mean +/- std", justify="right")
    table.add_column("best", justify="right")
    table.add_column("diverged", justify="right")
    table.add_column("time", justify="right")
    table.add_column("lr", justify="right")
    table.add_column("epochs (stopped)", justify="right")
    table.add_column("")
    for _, row in shown.iterrows():
        chosen = bool(row["_chosen"])
        n = _fmt_int(row.get("n_restarts"))
        note = "<- chosen" if chosen else ("pruned" if "pruned" in row and _truthy(row.get("pruned")) else "")
        flag = row.get("training_flag")
        if isinstance(flag, str) and flag:
            note = f"{note} {flag}".strip()
        table.add_row(
            str(row["_label"]),
            _fmt_int(row.get("params")),
            _fmt_score(row.get("val_mean"), percent) + _fmt_spread(row.get("val_std"), percent),
            _fmt_score(row.get("val_max"), percent),
            f"{_fmt_int(row.get('n_diverged'))}/{n}",
            _fmt_seconds(row.get("train_time")),
            lr_text(row.get("lr"), row.get("schedule")),
            epochs_text(row.get("epochs_run"), row.get("stopped_by")),
            note,
            style="bold green" if chosen else None,
        )
    if len(shown) < len(board):
        table.caption = f"{len(board) - len(shown)} more configs in leaderboard.csv"
        table.caption_justify = "left"
    return table


def _print_outcome(console: Console, board: Any, summary: dict[str, Any], run_dir: Path | None, *, quiet: bool = False) -> None:
    """The leaderboard, the choice and why, the test score, and where the files are."""
    percent = _is_percent(summary)
    if not quiet:
        console.print(leaderboard_table(board, summary))
        console.print()
    chosen = summary.get("chosen") or {}
    from justenough.labels import config_label

    label = config_label(chosen, ("activation", "init"))  # a linear model has no hidden activation to show
    console.print(f"[bold]chosen:[/] {label} ({_fmt_int(chosen.get('params'))} params)", highlight=False)
    if summary.get("explanation"):
        console.print(f"[bold]why:[/] {summary['explanation']}", highlight=False, soft_wrap=True)
    growth = summary.get("growth")
    if growth:  # --strategy grow: where growth stopped, and how many configs it did not need
        console.print(f"[bold]growth:[/] {growth['explanation']}; {len(growth['path'])} configs trained, "
                      f"{len(growth['not_needed'])} not needed", highlight=False, soft_wrap=True)
    if summary.get("paired"):
        from justenough.select import describe_paired

        console.print(f"[bold]paired:[/] {describe_paired(summary['paired'], str(chosen.get('label')), percent)}",
                      highlight=False, soft_wrap=True)
    metric = summary.get("test_metric") or summary.get("metric") or "score"
    n_test = (summary.get("split_sizes") or {}).get("test")
    rows = f" on {n_test} held-out rows" if n_test else ""
    n_scored = int(summary.get("test_models_scored") or 1)  # runs before the count scored one model
    where = (
        " (the validation rows: no independent test split, so optimistic)"
        if summary.get("test_split") == "validation"
        else " (sealed test split, scored once)"
        if n_scored == 1
        else f" (sealed test split, which has now scored {n_scored} models: no longer an unbiased estimate)"
    )
    console.print(f"[bold]test {metric}:[/] {_fmt_score(summary.get('test_score'), percent)}{rows}{where}", highlight=False)
    fit = summary.get("model")
    if isinstance(fit, dict) and fit.get("fit_on"):  # which model the test scored (refit.py)
        from justenough.search.refit import describe_fit

        console.print(f"[bold]tested model:[/] {describe_fit(fit)}", highlight=False)
    if summary.get("baseline"):
        from justenough.select.baseline import describe

        console.print(f"[bold]no network:[/] {describe(summary['baseline'], percent)} on validation", highlight=False)
    for notice in summary.get("notices") or []:
        console.print(f"[bold yellow]note:[/] {cli_text(notice)}", highlight=False, soft_wrap=True)
    if run_dir is not None:
        report = run_dir / "report.html"
        if report.exists():
            console.print(f"[bold]report:[/] {report}", highlight=False)
        console.print(f"[bold]model:[/] {run_dir / 'model'}", highlight=False)


def _read_run(run_dir: Path) -> tuple[Any, dict[str, Any]]:
    """``leaderboard.csv`` and ``summary.json`` of a run, with clear errors when they are missing."""
    from justenough.run.files import read_leaderboard, read_summary

    summary = read_summary(run_dir)
    return read_leaderboard(run_dir), summary


def _reading(model: Any, **given: str | None) -> dict[str, str | None]:
    """How to read predict's rows: what the run's table used (``model.info["reading"]``: its
    decimal comma, and a delimiter or encoding given to search), the flags overriding it."""
    saved = dict(model.info.get("reading") or {})
    return {key: value if value is not None else saved.get(key) for key, value in given.items()}


def _read_rows(source: str, reading: dict[str, str | None] | None = None) -> Any:
    """A raw table (no target needed) for prediction, read as ``data.load`` reads tables: a
    CSV/TSV/Parquet path or a bundled dataset name; ``reading``: delimiter, decimal, encoding."""
    from justenough.data import read_rows

    path = Path(source)
    if not path.exists() and not _is_dataset(source):
        raise DataError(f"DATA {source!r}: no such file (give a CSV, TSV or Parquet file of rows to predict)")
    return read_rows(source, **(reading or {}))


def _print_notices(notices: Any) -> None:
    for notice in notices or []:
        err.print(f"[yellow]note:[/] {cli_text(notice)}", highlight=False)


# ----------------------------------------------------------------------------------------------
# search
# ----------------------------------------------------------------------------------------------


@app.command()
def search(
    ctx: typer.Context,
    data: Optional[str] = typer.Argument(
        None, metavar="DATA", help="The table: a CSV/TSV/Parquet file or a bundled dataset name (e.g. iris). May come from --config."
    ),
    target: Optional[str] = typer.Option(None, "--target", help="Target column. Default: 'target', else the last column. Example: --target species"),
    task: str = typer.Option("auto", "--task", help="auto, classification or regression. Example: --task regression"),
    depth: str = typer.Option(SPACE_DEFAULTS["depth"], "--depth", help="Hidden layers: 2, 1,3, 1-3 or 1..4 (a range for samplers); 0 is a linear model (no hidden layer). Example: --depth 0-2"),
    widths: str = typer.Option(SPACE_DEFAULTS["widths"], "--widths", help="Units per layer: 64, 8,16,32 or 8..256. Example: --widths 8,16,32"),
    shape: str = typer.Option(SPACE_DEFAULTS["shape"], "--shape", help="same (every layer the width) or funnel (halving), or both. Example: --shape same,funnel"),
    activation: str = typer.Option(SPACE_DEFAULTS["activation"], "--activation", help=f"{', '.join(Activation)}; a list tries each. Example: --activation relu,tanh"),
    init: str = typer.Option(SPACE_DEFAULTS["init"], "--init", help="Init scheme(s); auto picks one per activation. Example: --init auto,orthogonal(gain=1.0)"),
    optimizer: str = typer.Option(SPACE_DEFAULTS["optimizer"], "--optimizer", help="adam, adamw or sgd. Example: --optimizer adam,sgd"),
    lr: str = typer.Option(SPACE_DEFAULTS["lr"], "--lr", help="Learning rate(s): 1e-3, 1e-3,3e-3 or 1e-4..1e-2. Example: --lr 1e-3,3e-3"),
    weight_decay: str = typer.Option(SPACE_DEFAULTS["weight_decay"], "--weight-decay", help="Weight decay(s). Example: --weight-decay 0,1e-4"),
    batch_size: str = typer.Option(SPACE_DEFAULTS["batch_size"], "--batch-size", help="Minibatch size(s). Example: --batch-size 32,128"),
    max_epochs: str = typer.Option(SPACE_DEFAULTS["max_epochs"], "--max-epochs", help="Most epochs per restart. Example: --max-epochs 50"),
    patience: str = typer.Option(SPACE_DEFAULTS["patience"], "--patience", help="Early stopping after N epochs without improvement; none turns it off. Example: --patience 5"),
    monitor: str = typer.Option(SPACE_DEFAULTS["monitor"], "--monitor", help="What early stopping and the best weights follow: val_loss, or val_score (accuracy or R^2; sooner, as scikit-learn). Example: --monitor val_score"),
    schedule: str = typer.Option(SPACE_DEFAULTS["schedule"], "--schedule", help="How each restart's learning rate moves: constant, or cosine (decays to 0 over --max-epochs). Example: --schedule cosine"),
    n_init: int = typer.Option(5, "--n-init", min=1, help="Restarts (random starts) per config. Example: --n-init 3"),
    rule: str = typer.Option("one-se", "--rule", help="How to choose: one-se, paired-se (one SE of the paired difference with the best), target=0.95 (or 95%) or tolerance=0.01. Example: --rule paired-se"),
    max_params: Optional[int] = typer.Option(None, "--max-params", min=1, help="Only configs with at most N parameters qualify. Example: --max-params 5000"),
    max_latency: Optional[str] = typer.Option(None, "--max-latency", help="Only configs at most this slow per sample (batch 1). Example: --max-latency 1ms"),
    halving: bool = typer.Option(False, "--halving/--no-halving", help="Successive halving: stop weak configs early. Example: --halving"),
    strategy: str = typer.Option("grid", "--strategy", help="grid (train every config) or grow (from the simplest config up, while bigger keeps beating the best by more than one paired SE). Example: --strategy grow"),
    grow_patience: int = typer.Option(2, "--grow-patience", min=1, help="With --strategy grow: a direction (wider, deeper) stops after N successive steps that do not beat the best. Example: --grow-patience 3"),
    time_budget: Optional[str] = typer.Option(None, "--time-budget", help="Stop asking for configs after this long (90s, 10m, 1.5h). Example: --time-budget 10m"),
    sampler: str = typer.Option("auto", "--sampler", help="auto (grid when finite, else tpe), grid, random, tpe or nsga2. Example: --sampler tpe"),
    n_trials: Optional[int] = typer.Option(None, "--n-trials", min=1, help="Configs to try with a sampler (default 30; the grid tries all). Example: --n-trials 50"),
    storage: Optional[str] = typer.Option(None, "--storage", help="Study storage URL (default: OUT/study.db, SQLite). Example: --storage postgresql+psycopg://u:p@host/db"),
    executor: str = typer.Option("local", "--executor", help="local (this machine) or ray (a Ray cluster). Example: --executor ray"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address, with --executor ray. Example: --ray-address 127.0.0.1:6379"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker processes (default: one per core). Example: --workers 2"),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto (CUDA when available). Example: --device cuda"),
    precision: str = typer.Option("float32", "--precision", help="The training step's matrix products: float32, or bfloat16 (mixed precision: faster on CPUs with AVX-512 BF16 and on GPUs, numbers differ by bfloat16 rounding). Example: --precision bfloat16"),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default: runs/<data name>). Running again resumes. Example: --out runs/iris-small"),
    seed: int = typer.Option(0, "--seed", help="Study seed: split, inits and data order derive from it. Example: --seed 1"),
    test_file: Optional[str] = typer.Option(None, "--test-file", help="A separate test table (else 20% of DATA is held out). Example: --test-file test.csv"),
    val_file: Optional[str] = typer.Option(None, "--val-file", help="A separate validation table. Example: --val-file val.csv"),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help=_DELIMITER_HELP),
    decimal: Optional[str] = typer.Option(None, "--decimal", help=_DECIMAL_HELP),
    encoding: Optional[str] = typer.Option(None, "--encoding", help=_ENCODING_HELP),
    max_categories: int = typer.Option(50, "--max-categories", min=2, help="Most categories a text column may have (more is refused). Example: --max-categories 200"),
    diagnose_every: int = typer.Option(10, "--diagnose-every", min=0, help="Record symmetry/signal diagnostics every N epochs (0: never). Example: --diagnose-every 5"),
    memory_budget: Optional[str] = typer.Option(None, "--memory-budget", help="Memory one stack may use (default: a quarter of the free memory); bigger stacks are split, a network that cannot fit is refused at once. Example: --memory-budget 2GB"),
    refit: bool = typer.Option(True, "--refit/--no-refit", help="Train the chosen config again on train+validation (its restarts' median best epoch) and test that model, as GridSearchCV's refit; --no-refit keeps its best restart. Example: --no-refit"),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html at the end. Example: --no-report"),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file of options (keys = option names); flags override it. Example: --config search.toml"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No live progress and no leaderboard: just the result. Example: -q"),
) -> None:
    """Search depth x width (and more), choose the just-enough network, and test it once.

    Example: justenough search iris --depth 1-2 --widths 8,16,32 --n-init 3
    """
    from justenough.cli_config import merge_config

    o = merge_config(ctx, search, config)
    if o["data"] is None:
        raise ConfigError("give the DATA to search on (a file or a bundled dataset name), or data = \"...\" in --config")
    for option, name, choices in (
        ("--task", "task", ("auto", *Task)),
        ("--sampler", "sampler", ("auto", "grid", "random", "tpe", "nsga2")),
        ("--executor", "executor", ("local", "ray")),
        ("--strategy", "strategy", ("grid", "grow")),
    ):
        o[name] = _validate_choice(option, o[name], choices)
    parse_device(o["device"], flag="--device")  # refused now, before the data is read or the run directory is made
    # The command line checks these bounds itself; values from a config file are checked here.
    for option, name, low in (("--n-init", "n_init", 1), ("--workers", "workers", 1), ("--n-trials", "n_trials", 1),
                              ("--max-params", "max_params", 1), ("--diagnose-every", "diagnose_every", 0),
                              ("--max-categories", "max_categories", 2), ("--grow-patience", "grow_patience", 1)):
        if o[name] is not None and o[name] < low:
            raise ConfigError(f"{option} must be at least {low}, got {o[name]}")

    from justenough.search import parse_duration
    from justenough.search import search as run_search
    from justenough.select import parse_rule
    from justenough.search.space import Space

    # Everything that can be wrong with the options is checked before any training starts, so a
    # typo costs nothing and leaves nothing behind.
    space = Space.from_options(**{name: o[name] for name in SPACE_DEFAULTS})
    parse_rule(o["rule"])
    parse_duration(o["time_budget"])
    parse_duration(o["max_latency"])
    data = str(o["data"])
    _check_data_arg(data)
    for option, value in (("--test-file", o["test_file"]), ("--val-file", o["val_file"])):
        if value is not None:
            _check_data_arg(str(value), option)
    out_dir = Path(o["out"]) if o["out"] is not None else default_out(data)
    from justenough.search.preflight import check_out_dir, parse_bytes

    check_out_dir(out_dir, "--out")
    if o["memory_budget"] is not None:
        try:
            parse_bytes(o["memory_budget"])
        except ConfigError as exc:
            raise ConfigError(f"--memory-budget: {exc}") from None

    from justenough.cli_progress import make_progress

    console = _out_console()
    progress = make_progress(console, quiet=o["quiet"])
    show_message = progress.on_message
    progress.on_message = lambda text: show_message(cli_text(text))  # type: ignore[method-assign]
    result = run_search(
        data,
        o["target"],
        task=o["task"],
        space=space,
        rule=o["rule"],
        n_init=o["n_init"],
        storage=o["storage"],
        out=out_dir,
        sampler=o["sampler"],
        n_trials=o["n_trials"],
        time_budget=o["time_budget"],
        halving=o["halving"],
        seed=o["seed"],
        device=o["device"],
        precision=o["precision"],
        executor=o["executor"],
        workers=o["workers"],
        ray_address=o["ray_address"],
        max_params=o["max_params"],
        max_latency=o["max_latency"],
        test=o["test_file"],
        val=o["val_file"],
        diagnose_every=o["diagnose_every"],
        memory_budget=o["memory_budget"],
        report=o["report"],
        progress=progress,
        delimiter=o["delimiter"],
        decimal=o["decimal"],
        encoding=o["encoding"],
        max_categories=o["max_categories"],
        refit=o["refit"],
        strategy=o["strategy"],
        grow_patience=o["grow_patience"],
    )
    if not o["quiet"]:
        console.print()
    _print_outcome(console, result.leaderboard, result.summary, result.out or out_dir, quiet=o["quiet"])


def _validate_choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    """``value`` in lower case when it is one of ``choices``; else ``ConfigError`` listing them."""
    v = str(value).strip().lower()
    if v not in choices:
        raise ConfigError(f"{option} {value!r} is not one of {', '.join(choices)}")
    return v


# ----------------------------------------------------------------------------------------------
# show, report
# ----------------------------------------------------------------------------------------------


@app.command()
def show(
    run: Path = typer.Argument(..., metavar="RUN", help="A run directory written by search. Example: runs/iris"),
    top: int = typer.Option(_LEADERBOARD_ROWS, "--top", min=1, help="Rows of the leaderboard to show (the chosen one always). Example: --top 10"),
) -> None:
    """Show a finished run in the terminal: the leaderboard, the choice and why, the test score.

    Example: justenough show runs/iris
    """
    run_dir = _run_dir(run)
    board, summary = _read_run(run_dir)
    console = _out_console()
    source = None
    data_path = run_dir / "data.json"
    if data_path.is_file():
        try:
            source = json.loads(data_path.read_text(encoding="utf-8")).get("source")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            source = None
    console.print(f"[bold]run:[/] {run_dir}" + (f"   [bold]data:[/] {source}" if source else ""), highlight=False)
    console.print(leaderboard_table(board, summary, limit=top))
    console.print()
    _print_outcome(console, board, summary, run_dir, quiet=True)


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
    import pandas as pd

    from justenough.select import format_difference, paired_difference, paired_scores

    run_dir = _run_dir(run)
    board, summary = _read_run(run_dir)
    results_path = run_dir / "results.csv"
    if not results_path.is_file():
        raise ArtifactError(f"{results_path} is missing: the run has no per-restart results to pair")
    results = pd.read_csv(results_path)
    key_a, label_a = _config_named(board, first)
    key_b, label_b = _config_named(board, second)
    if key_a == key_b:
        raise ConfigError(f"{first!r} and {second!r} are the same config ({label_a}): give two different ones")
    percent = _is_percent(summary)
    scale = 100.0 if percent else 1.0
    d = paired_difference(results, key_a, key_b)
    table = Table(title=f"{label_a} vs {label_b}, by restart")
    for col in ("restart", label_a, label_b, "A - B"):
        table.add_column(col, justify="right")

    scores = paired_scores(results, key_a, key_b, pairs_only=False)  # by restart: a, b (NaN: diverged or missing)
    for k, a, b in zip(scores.index, scores["a"], scores["b"]):
        diff = f"{scale * (a - b):+.2f}" if math.isfinite(a) and math.isfinite(b) else "unpaired"
        table.add_row(str(k), _fmt_score(a, percent), _fmt_score(b, percent), diff)
    console = _out_console()
    console.print(table)
    if not d["n"]:
        console.print("no restart of one config has a partner in the other (diverged or missing): nothing to pair", highlight=False)
        return
    rows = board.set_index(board["key"].astype(str))
    unpaired = math.sqrt(sum(float(rows.at[k, "val_se"]) ** 2 for k in (key_a, key_b)))
    console.print(
        f"[bold]paired:[/] {label_a} - {label_b} = {format_difference(d['mean_diff'], d['se_diff'], percent)} "
        f"over {d['n']} restarts paired by seed"
        + (f" (unpaired: +/- {scale * unpaired:.{2 if percent else 3}f})" if math.isfinite(unpaired) else ""),
        highlight=False,
    )


def _config_named(board: Any, name: str) -> tuple[str, str]:
    """(key, label) of the leaderboard's config called ``name`` (a label or a key)."""
    keys = board["key"].astype(str)
    labels = board["label"].astype(str) if "label" in board.columns else keys
    hit = board[(keys == name) | (labels == name)]
    if len(hit) == 1:
        return str(hit["key"].iloc[0]), str(hit["label"].iloc[0] if "label" in hit.columns else hit["key"].iloc[0])
    if len(hit) > 1:
        raise ConfigError(f"{name!r} names {len(hit)} configs of this run: give a key instead ({', '.join(map(str, hit['key']))})")
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

    run_dir = _run_dir(run)
    path = Path(build_report(run_dir, out=out))
    typer.echo(f"report: {path}")
    if open_:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            err.print("note: no web browser could be opened; open the file above by hand", highlight=False)


# ----------------------------------------------------------------------------------------------
# predict, export
# ----------------------------------------------------------------------------------------------


@app.command()
def predict(
    run: Path = typer.Argument(..., metavar="RUN", help="A run directory (or its model/ folder). Example: runs/iris"),
    data: str = typer.Argument(..., metavar="DATA", help="Rows to predict: CSV/TSV/Parquet with the training columns, any order. Example: new.csv"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the predictions CSV here (default: print to stdout). Example: --out preds.csv"),
    proba: bool = typer.Option(False, "--proba", help="Add one probability column per class (classification). Example: --proba"),
    id_col: Optional[str] = typer.Option(None, "--id", help="Copy this column into the output, first. Example: --id customer_id"),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help=_DELIMITER_HELP + " (default: as the run's table, else sniffed)"),
    decimal: Optional[str] = typer.Option(None, "--decimal", help="The decimal mark, '.' or ',' (default: as the run's table, else detected). Example: --decimal ,"),
    encoding: Optional[str] = typer.Option(None, "--encoding", help=_ENCODING_HELP),
) -> None:
    """Predict new rows with a run's model: its saved preprocessing, then the network.

    Output columns: [ID], prediction, and with --proba proba_<class> for each class. The rows are
    read as the run's table was (a decimal comma, a delimiter or an encoding given to search);
    --delimiter, --decimal and --encoding override that.

    Example: justenough predict runs/iris new_flowers.csv --proba --out preds.csv
    """
    import pandas as pd

    from justenough.run.model import load

    model = load(run)
    rows = _read_rows(data, _reading(model, delimiter=delimiter, decimal=decimal, encoding=encoding))
    features = rows
    if id_col is not None:
        if id_col not in rows.columns:
            more = ", …" if len(rows.columns) > 12 else ""
            raise DataError(f"--id {id_col!r}: no such column in {data} (columns: {', '.join(map(str, rows.columns[:12]))}{more})")
        if id_col not in model.feature_names_in:
            features = rows.drop(columns=[id_col])
    if proba and model.task != "classification":
        raise ConfigError("--proba is for classification; this model does regression (drop --proba)")
    labels = model.predict(features)
    _print_notices(model.notices)
    result = pd.DataFrame(index=range(len(rows)))
    if id_col is not None:
        result[id_col] = rows[id_col].to_numpy()
    result["prediction"] = labels
    if proba:
        p = model.predict_proba(features)  # [N, K], columns in the order of model.classes
        for k, cls in enumerate(model.classes):
            result[f"proba_{cls}"] = p[:, k]
    if out is None:
        result.to_csv(sys.stdout, index=False)
    else:
        from justenough.run.atomic import write_csv

        write_csv(Path(out), result)
        err.print(f"wrote {len(result)} predictions to {out}", highlight=False)


_EXPORT_SUFFIX = {"onnx": ".onnx", "torchscript": ".pt", "safetensors": ".safetensors"}


def features_path(path: Path) -> Path:
    """The input description written next to an export: ``model.onnx`` -> ``model.onnx.features.json``."""
    return path.with_name(path.name + ".features.json")


@app.command()
def export(
    run: Path = typer.Argument(..., metavar="RUN", help="A run directory (or its model/ folder). Example: runs/iris"),
    format: str = typer.Option("onnx", "--format", "-f", help="onnx, torchscript or safetensors. Example: --format torchscript"),
    out: Optional[Path] = typer.Option(None, "--out", help="Output file (default: RUN/export/model.<ext>). Example: --out iris.onnx"),
    inputs: str = typer.Option("preprocessed", "--inputs", help="What the exported model takes: preprocessed features, or raw numeric columns with the preprocessing built in (onnx and torchscript; numeric columns only). Example: --inputs raw"),
) -> None:
    """Export the network for deployment.

    By default the exported network maps preprocessed features [batch, n_features] to logits
    (classification) or the standardized target (regression). With --inputs raw it takes the raw
    numeric columns [batch, n_columns] (NaN for a missing value) and returns logits or predictions
    in the target's units: the preprocessing is part of the file. PATH.features.json lists the
    inputs in order, the preprocessing and the output (classes, or the target's mean and std).

    Example: justenough export runs/iris --format onnx --inputs raw --out iris.onnx
    """
    from justenough.run.atomic import write_json
    from justenough.run.model import load

    fmt = _validate_choice("--format", format, tuple(_EXPORT_SUFFIX))
    inputs = _validate_choice("--inputs", inputs, ("preprocessed", "raw"))
    if inputs == "raw" and fmt == "safetensors":
        raise ConfigError("--inputs raw needs --format onnx or torchscript: safetensors holds the network's weights only")
    run_path = Path(run)
    model = load(run_path)
    if out is None:
        base = run_path if (run_path / "model").is_dir() else run_path.parent
        out = base / "export" / f"model{_EXPORT_SUFFIX[fmt]}"
    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a directory: give a file name, e.g. {out / ('model' + _EXPORT_SUFFIX[fmt])}")
    from justenough.run import artifacts

    names_out = _feature_names_out(model)
    network: Any = model.module
    if inputs == "raw":
        from justenough.nets.export import RawInputNetwork

        network = RawInputNetwork(model.module, model.preprocessor, model.target_encoder, model.task)
        names_in = list(network.columns)
    else:
        names_in = names_out
    n_in = len(names_in)
    if fmt == "onnx":
        artifacts.export_onnx(network, n_in, out)
    elif fmt == "torchscript":
        artifacts.export_torchscript(network, n_in, out)
    else:
        artifacts.export_safetensors(model.module, out, activation=model.activation)
    write_json(features_path(out), _export_description(model, names_in, fmt, inputs))
    typer.echo(f"exported: {out}")
    if inputs == "raw":
        typer.echo(f"inputs:   {features_path(out)} ({n_in} raw numeric columns, in this order; NaN for missing)")
    else:
        typer.echo(f"inputs:   {features_path(out)} ({n_in} preprocessed features; apply the run's preprocessing first)")


def _feature_names_out(model: Any) -> list[str]:
    names = list(getattr(model.preprocessor, "feature_names_out", []) or [])
    n_in = int(model.module[0].in_features)
    if len(names) != n_in:
        raise ArtifactError(f"the model takes {n_in} features but its preprocessing names {len(names)}: the run is damaged")
    return names


def _export_description(model: Any, names_in: list[str], fmt: str, inputs: str = "preprocessed") -> dict[str, Any]:
    """What a deployment needs to feed the exported network and read its output."""
    classification = model.task == "classification"
    raw = inputs == "raw"
    output: dict[str, Any]
    if classification:
        output = {"kind": "logits", "classes": [c if isinstance(c, (str, int, float, bool)) else str(c) for c in model.classes],
                  "how": "argmax gives the class index; softmax gives probabilities"}
    elif raw:
        output = {"kind": "prediction", "target": model.target_name, "how": "the prediction in the target's units"}
    else:
        output = {"kind": "standardized target", "target": model.target_name,
                  "target_encoder": model.target_encoder.to_json(),
                  "how": "prediction = output * std + mean (see target_encoder)"}
    note = (
        "The model takes the raw numeric columns in this order (float32, NaN for a missing value); "
        "the preprocessing below is built in."
        if raw
        else "The network takes preprocessed features in this order. Apply the preprocessing "
        "(or `justenough predict`, or justenough.load(RUN).transform) to raw rows first."
    )
    return {
        "format": fmt,
        "inputs": inputs,
        "input": {"name": "input", "shape": ["batch", len(names_in)], "dtype": "float32"},
        "features": names_in,
        "raw_columns": list(model.feature_names_in),
        "preprocessing": model.preprocessor.to_json(),
        "output": {"name": "output", **output},
        "task": model.task,
        "note": note,
    }


# ----------------------------------------------------------------------------------------------
# init-lab, datasets
# ----------------------------------------------------------------------------------------------


@app.command("init-lab")
def init_lab(
    ctx: typer.Context,
    data: Optional[str] = typer.Argument(None, metavar="DATA", help="A file or bundled dataset name. May come from --config. Example: digits"),
    target: Optional[str] = typer.Option(None, "--target", help="Target column (default: 'target', else the last column). Example: --target label"),
    depth: int = typer.Option(6, "--depth", min=1, help="Hidden layers of the deep network to probe. Example: --depth 10"),
    width: int = typer.Option(64, "--width", min=1, help="Units per hidden layer. Example: --width 128"),
    activation: str = typer.Option("relu", "--activation", help="The activation of every hidden layer. Example: --activation tanh"),
    schemes: Optional[str] = typer.Option(None, "--schemes", help="Init schemes to compare, comma-separated (default: every registered scheme). Example: --schemes he_normal,glorot_uniform,normal(std=0.01)"),
    n_init: int = typer.Option(10, "--n-init", min=1, help="Restarts per scheme. Example: --n-init 5"),
    epochs: int = typer.Option(30, "--epochs", min=1, help="Training epochs of every restart (no early stopping). Example: --epochs 50"),
    lr: float = typer.Option(1e-3, "--lr", min=0.0, help="Learning rate (Adam). Example: --lr 3e-3"),
    seed: int = typer.Option(0, "--seed", help="Seed of the split and the restarts. Example: --seed 1"),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto. Example: --device cuda"),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: runs/init-lab-<data name>). Example: --out runs/lab"),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file of options; flags override it. Example: --config lab.toml"),
) -> None:
    """The init lab: one deep network started from every init scheme, many restarts each.

    Shows which schemes break the symmetry between units and keep the signal alive through the
    depth, and what each one learns. Writes summary.csv (one row per scheme), the full tables and
    init_lab.html into --out.

    Example: justenough init-lab digits --depth 10 --schemes he_normal,normal(std=0.01)
    """
    from justenough.cli_config import merge_config

    o = merge_config(ctx, init_lab, config)
    if o["data"] is None:
        raise ConfigError("give the DATA (a file or a bundled dataset name), or data = \"...\" in --config")
    for option, name, low in (("--depth", "depth", 1), ("--width", "width", 1), ("--n-init", "n_init", 1), ("--epochs", "epochs", 1)):
        if o[name] < low:
            raise ConfigError(f"{option} must be at least {low}, got {o[name]}")
    parse_device(o["device"], flag="--device")  # refused now, before the data is read or the run directory is made
    data = str(o["data"])
    _check_data_arg(data)
    from justenough.diagnose.lab import init_lab as run_lab

    source: Any = data
    if o["target"] is not None:
        # The lab loads with the default target; a named one needs the table prepared here.
        from justenough.data import load, prepare

        source = prepare(load(data, target=o["target"], seed=o["seed"]), seed=o["seed"], device=o["device"])
    result = run_lab(
        source,
        depth=o["depth"],
        width=o["width"],
        activation=o["activation"],
        schemes=split_specs(o["schemes"]) if o["schemes"] else None,
        n_init=o["n_init"],
        epochs=o["epochs"],
        seed=o["seed"],
        lr=o["lr"],
        device=o["device"],
    )
    out_dir = Path(o["out"]) if o["out"] is not None else Path("runs") / f"init-lab-{Path(data).stem}"
    saved = Path(result.save(out_dir))
    console = _out_console()
    title = f"init lab: depth {o['depth']} x width {o['width']} {o['activation']}, {o['n_init']} restarts x {o['epochs']} epochs"
    console.print(_init_lab_table(result.summary, title=title, width=o["width"]))
    for notice in result.notices:
        console.print(f"[yellow]note:[/] {cli_text(notice)}", highlight=False)
    console.print(f"[bold]summary:[/] {saved / 'summary.csv'}", highlight=False)
    console.print(f"[bold]report:[/] {saved / 'init_lab.html'}", highlight=False)


@app.command()
def datasets() -> None:
    """List the bundled datasets (use their names as DATA).

    Example: justenough datasets
    """
    from justenough.data.datasets import available

    _out_console().print(_frame_table(available(), title="bundled datasets"))


def _init_lab_table(summary: Any, *, title: str, width: int) -> Table:
    """The lab's summary, one row per scheme, in the columns that tell the story (all are in summary.csv)."""

    def num(row: Any, col: str, fmt: str = "{:.3g}") -> str:
        f = finite_or_none(row.get(col))
        return "-" if f is None else fmt.format(f)

    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("scheme", no_wrap=True)
    table.add_column("val score mean +/- std", justify="right")
    table.add_column("good", justify="right")
    table.add_column("diverged", justify="right")
    table.add_column(f"effective width (of {width})", justify="right")
    table.add_column("act std first -> last layer", justify="right")
    table.add_column("grad norm first/output layer", justify="right")
    for _, row in summary.iterrows():
        table.add_row(
            str(row["scheme"]),
            num(row, "score_mean", "{:.4f}") + (f" +/- {num(row, 'score_std', '{:.4f}')}" if finite_or_none(row.get("score_std")) is not None else ""),
            num(row, "good_fraction", "{:.0%}"),
            num(row, "diverged_fraction", "{:.0%}"),
            f"{num(row, 'min_effective_width', '{:.0f}')}-{num(row, 'max_effective_width', '{:.0f}')}",
            f"{num(row, 'init_act_std_first')} -> {num(row, 'init_act_std_last')}",
            num(row, "init_grad_ratio"),
        )
    table.caption = "every column per scheme, and per layer and epoch, in the files below"
    table.caption_justify = "left"
    return table


def split_specs(text: str) -> tuple[str, ...]:
    """``"he_normal,normal(std=0.1,mean=0)"`` -> two specs: commas inside parentheses stay."""
    from justenough.search.dims import _split_list

    return tuple(s for s in _split_list(text) if s)


def _frame_table(frame: Any, *, title: str) -> Table:
    """A DataFrame as a rich table: floats with 4 significant digits, integers with separators."""
    import pandas as pd

    table = Table(title=title, title_justify="left", header_style="bold")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for _, row in frame.iterrows():
        cells = []
        for col in frame.columns:
            v = row[col]
            if isinstance(v, float):
                cells.append("-" if not math.isfinite(v) else f"{v:.4g}")
            elif isinstance(v, (int,)) and not isinstance(v, bool):
                cells.append(f"{v:,}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    return table


# ----------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of the ``justenough`` executable."""
    args = list(sys.argv[1:] if argv is None else argv)
    from justenough.cli_stdout import guard_stdout

    guard_stdout()  # `justenough search ... | head`: a reader that leaves must not stop the search
    debug = "--debug" in args
    if debug:
        # --debug is an option of the root command; accept it anywhere on the line.
        args = ["--debug", *[a for a in args if a != "--debug"]]
    try:
        app(args=args, prog_name="justenough", standalone_mode=False)
    except JustEnoughError as exc:
        if debug:
            raise
        # An error that knows its command-line wording (preflight.MemoryBudgetError) uses it.
        err.print(f"[bold red]error:[/] {cli_text(str(getattr(exc, 'cli_message', exc)))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors and real failures
        # Usage errors come from the click that typer uses (its own copy in typer >= 0.2x): they
        # show themselves and carry their exit code (2 for usage, 1 otherwise).
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            _print_usage_error(exc)
            sys.exit(code)
        if debug:
            raise
        if isinstance(exc, OSError) and exc.strerror:
            where = f": {exc.filename}" if exc.filename else ""
            err.print(f"[bold red]error:[/] {exc.strerror}{where}", highlight=False)
            sys.exit(1)
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n(run again with --debug for the traceback)", highlight=False)
        sys.exit(1)


def _print_usage_error(exc: Any) -> None:
    """click's usage error as one line, in the style of every other error: ``error: ...``."""
    format_message = getattr(exc, "format_message", None)
    message = " ".join(str(format_message() if callable(format_message) else exc).split())
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "justenough"
    err.print(f"[bold red]error:[/] {message} (see `{path} --help`)", highlight=False)


def cli_text(message: str) -> str:
    """``message`` with its option references (``errors.option``) written as this CLI's flags."""
    from justenough.cli_language import flag_table, to_cli

    if "flags" not in _FLAGS:
        group = typer.main.get_command(app)
        _FLAGS["flags"] = flag_table(getattr(group, "commands", {}).values())
    return to_cli(message, _FLAGS["flags"])


_FLAGS: dict[str, Any] = {}


if __name__ == "__main__":
    main()
