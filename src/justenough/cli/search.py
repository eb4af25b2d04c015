"""The ``search`` command: its options, read into a ``SearchSettings`` after the command line's
own checks, and the search run with the live progress display."""

from __future__ import annotations

import shlex
import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from justenough.cli.app import app, cli_text, out_console
from justenough.cli.arguments import (
    DATES_HELP,
    DECIMAL_HELP,
    DELIMITER_HELP,
    ENCODING_HELP,
    check_data_arg,
    default_out,
    validate_choice,
)
from justenough.cli.display import print_outcome
from justenough.errors import ConfigError
from justenough.run.summary import Summary
from justenough.space.search_space import DEFAULT_SPACE_TEXT
from justenough.vocab import Activation, ExecutorKind, NumericScaling, Sampler, Strategy, Task, parse_device

if TYPE_CHECKING:
    from justenough.settings import SearchSettings
    from justenough.space.search_space import Space

__all__ = ["search", "SPACE_DEFAULTS"]

# Defaults of the search space as the CLI writes them (the space module owns them; a test checks
# that they equal ``Space.default()``).
SPACE_DEFAULTS: dict[str, str] = dict(DEFAULT_SPACE_TEXT)


# 86 lines: the typer signature, one option a line (every flag of the search); the body is three calls.
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
    batch_size: str = typer.Option(SPACE_DEFAULTS["batch_size"], "--batch-size", help="Minibatch size(s); auto: 64, or about 128 steps an epoch on many rows (at most 1024). Example: --batch-size 32,128"),
    max_epochs: str = typer.Option(SPACE_DEFAULTS["max_epochs"], "--max-epochs", help="Most epochs per restart; auto: 400 for regression, 200 for classification. Example: --max-epochs 50"),
    patience: str = typer.Option(SPACE_DEFAULTS["patience"], "--patience", help="Early stopping after N epochs without improvement; none turns it off. Example: --patience 5"),
    monitor: str = typer.Option(SPACE_DEFAULTS["monitor"], "--monitor", help="What early stopping and the best weights follow: val_loss, or val_score (accuracy or R^2; sooner, as scikit-learn). Example: --monitor val_score"),
    schedule: str = typer.Option(SPACE_DEFAULTS["schedule"], "--schedule", help="How each restart's learning rate moves: constant, cosine (decays to 0 over --max-epochs), or warmup_cosine (rises over the first max-epochs/20 epochs, then cosine). Example: --schedule warmup_cosine"),
    embed: str = typer.Option(SPACE_DEFAULTS["embed"], "--embed", help="How the numeric inputs enter: none, or periodic (K=8 trainable cosines per feature beside it); a list tries each. Example: --embed none,periodic"),
    label_smoothing: str = typer.Option(SPACE_DEFAULTS["label_smoothing"], "--label-smoothing", help="Classification: train on (1-eps)*onehot + eps/classes, eps in [0, 1); 0 is none. Example: --label-smoothing 0,0.1"),
    n_init: int = typer.Option(5, "--n-init", min=1, help="Restarts (random starts) per config. Example: --n-init 3"),
    rule: str = typer.Option("one-se", "--rule", help="How to choose: one-se, paired-se (one SE of the paired difference with the best), target=0.95 (or 95%) or tolerance=0.01. Example: --rule paired-se"),
    max_params: Optional[int] = typer.Option(None, "--max-params", min=1, help="Only configs with at most N parameters qualify. Example: --max-params 5000"),
    max_latency: Optional[str] = typer.Option(None, "--max-latency", help="Only configs at most this slow per sample (batch 1), e.g. 2ms or 0.5ms. Example: --max-latency 1ms"),
    halving: bool = typer.Option(False, "--halving/--no-halving", help="Successive halving: stop weak configs early. Example: --halving"),
    strategy: str = typer.Option("grid", "--strategy", help="grid (train every config) or grow (from the simplest config up, while bigger keeps beating the best by more than one paired SE). Example: --strategy grow"),
    cv: str = typer.Option("auto", "--cv", help="Folds that validate every config: auto (5 folds below 1,000 rows outside the test split, else one validation split), a number K, or 1 (one split). Example: --cv 5"),
    grow_patience: int = typer.Option(2, "--grow-patience", min=1, help="With --strategy grow: a direction (wider, deeper) stops after N successive steps that do not beat the best. Example: --grow-patience 3"),
    time_budget: Optional[str] = typer.Option(None, "--time-budget", help="Stop asking for configs after this long (90s, 10m, 1.5h). Example: --time-budget 10m"),
    sampler: str = typer.Option("auto", "--sampler", help="auto (grid when finite, else tpe), grid, random, tpe or nsga2. Example: --sampler tpe"),
    n_trials: Optional[int] = typer.Option(None, "--n-trials", min=1, help="Configs to try with a sampler (default 30; the grid tries all). Example: --n-trials 50"),
    storage: Optional[str] = typer.Option(None, "--storage", help="Study storage URL (default: OUT/study.db, SQLite). Example: --storage postgresql+psycopg://u:p@host/db"),
    executor: str = typer.Option("local", "--executor", help="local (this machine) or ray (a Ray cluster). Example: --executor ray"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address, with --executor ray. Example: --ray-address 127.0.0.1:6379"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker processes (default: one per core). Example: --workers 2"),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto (CUDA when available). Example: --device cuda"),
    precision: str = typer.Option("float32", "--precision", help="The training step's matrix products: float32, or bfloat16 (mixed precision: faster on CPUs with AVX-512 BF16 or AMX and on GPUs, numbers differ by bfloat16 rounding; elsewhere float32, with a note). Example: --precision bfloat16"),
    numeric: str = typer.Option("standard", "--numeric", help="How numeric columns are scaled, fitted on the training rows: standard ((x - mean) / std), robust ((x - median) / IQR, smoothly clipped to (-3, 3), as RealMLP) or quantile (to a normal, by the training quantiles). Example: --numeric robust"),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default: runs/<data name>). Running again resumes. Example: --out runs/iris-small"),
    seed: int = typer.Option(0, "--seed", help="Study seed: split, inits and data order derive from it. Example: --seed 1"),
    test_file: Optional[str] = typer.Option(None, "--test-file", help="A separate test table (else 20% of DATA is held out). Example: --test-file test.csv"),
    val_file: Optional[str] = typer.Option(None, "--val-file", help="A separate validation table. Example: --val-file val.csv"),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help=DELIMITER_HELP),
    decimal: Optional[str] = typer.Option(None, "--decimal", help=DECIMAL_HELP),
    encoding: Optional[str] = typer.Option(None, "--encoding", help=ENCODING_HELP),
    dates: Optional[str] = typer.Option(None, "--dates", help=DATES_HELP),
    max_categories: int = typer.Option(50, "--max-categories", min=2, help="Most categories a text column may have (more is refused). Example: --max-categories 200"),
    diagnose_every: int = typer.Option(10, "--diagnose-every", min=0, help="Record symmetry/signal diagnostics every N epochs (0: never). Example: --diagnose-every 5"),
    memory_budget: Optional[str] = typer.Option(None, "--memory-budget", help="Memory one stack may use (default: a quarter of the free memory); bigger stacks are split, a network that cannot fit is refused at once. Example: --memory-budget 2GB"),
    refit: bool = typer.Option(True, "--refit/--no-refit", help="Train the chosen config again on train+validation (its restarts' median best epoch) and test that model, as GridSearchCV's refit; --no-refit keeps its best restart. Example: --no-refit"),
    ensemble: bool = typer.Option(True, "--ensemble/--no-ensemble", help="Predict with the mean of the chosen config's restarts (classification: of their probabilities); --max-params and --max-latency count the ensemble's cost. --no-ensemble: its best restart alone, one network. Example: --no-ensemble"),
    lr_per_config: bool = typer.Option(False, "--lr-per-config", help="With several --lr values: each architecture keeps its best learning rate by validation, then the rule compares architectures (the other rates are shown, never chosen). Example: --lr 1e-3,3e-3,1e-2 --lr-per-config"),
    judge_ensembles: Optional[bool] = typer.Option(None, "--judge-ensembles/--judge-restarts", help="What the rule compares: every config's ensemble of restarts (the model the search returns; the default with the ensemble) or its restarts (the default with --no-ensemble or --storage, a study other drivers may share). Example: --judge-restarts", show_default=False),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html at the end. Example: --no-report"),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file of options (keys = option names); flags override it. Example: --config search.toml"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No live progress and no leaderboard: just the result. Example: -q"),
) -> None:
    """Search depth x width (and more), choose the just-enough network, and test it once.

    Example: justenough search iris --depth 1-2 --widths 8,16,32 --n-init 3
    """
    from justenough.cli.config_file import merge_config

    o = merge_config(ctx, search, config)
    space, out_dir = _checked_options(o)
    settings = _settings(o, space, out_dir)  # the rule and the other settings, read and checked once
    from justenough.cli.search_progress import make_progress, open_ended_text
    from justenough.api import run_search
    from justenough.engine.driver import SearchInterrupted

    console = out_console()
    progress = make_progress(console, quiet=o["quiet"],
                             open_ended=cli_text(open_ended_text(o["strategy"], o["time_budget"], o["grow_patience"])))
    show_message = progress.on_message
    progress.on_message = lambda text: show_message(cli_text(text))  # type: ignore[method-assign]
    try:
        result = run_search(settings, str(o["data"]), target=o["target"], test=o["test_file"],
                            val=o["val_file"], progress=progress)
    except SearchInterrupted as exc:
        # The command line can say exactly what resumes: this very command.
        exc.cli_message = f"{exc.kept}; resume with: {resume_command()}"  # type: ignore[attr-defined]
        raise
    if not o["quiet"]:
        console.print()
    print_outcome(console, result.leaderboard, Summary.from_json(result.summary), result.out or out_dir, quiet=o["quiet"])


def resume_command() -> str:
    """The command that resumes this search: the one that started it, as a shell would read it."""
    return shlex.join(["justenough", *sys.argv[1:]])


def _checked_options(o: dict[str, Any]) -> tuple["Space", Path]:
    """The search space and the run directory, once everything that can be wrong with the options
    is checked: before any training starts, so a typo costs nothing and leaves nothing behind."""
    if o["data"] is None:
        raise ConfigError("give the DATA to search on (a file or a bundled dataset name), or data = \"...\" in --config")
    for option, name, choices in (
        ("--task", "task", ("auto", *Task)),
        ("--sampler", "sampler", tuple(Sampler)),
        ("--executor", "executor", tuple(ExecutorKind)),
        ("--strategy", "strategy", tuple(Strategy)),
        ("--numeric", "numeric", tuple(NumericScaling)),
    ):
        o[name] = validate_choice(option, o[name], choices)
    parse_device(o["device"], flag="--device")  # refused now, before the data is read or the run directory is made
    # The command line checks these bounds itself; values from a config file are checked here.
    for option, name, low in (("--n-init", "n_init", 1), ("--workers", "workers", 1), ("--n-trials", "n_trials", 1),
                              ("--max-params", "max_params", 1), ("--diagnose-every", "diagnose_every", 0),
                              ("--max-categories", "max_categories", 2), ("--grow-patience", "grow_patience", 1)):
        if o[name] is not None and o[name] < low:
            raise ConfigError(f"{option} must be at least {low}, got {o[name]}")

    from justenough.durations import parse_duration
    from justenough.space.search_space import Space

    space = Space.from_options(**{name: o[name] for name in SPACE_DEFAULTS})
    parse_duration(o["time_budget"])
    parse_duration(o["max_latency"], latency=True)
    data = str(o["data"])
    check_data_arg(data)
    for option, value in (("--test-file", o["test_file"]), ("--val-file", o["val_file"])):
        if value is not None:
            check_data_arg(str(value), option)
    out_dir = Path(o["out"]) if o["out"] is not None else default_out(data)
    from justenough.engine.preflight import check_out_dir, parse_bytes

    check_out_dir(out_dir, "--out")
    if o["memory_budget"] is not None:
        try:
            parse_bytes(o["memory_budget"])
        except ConfigError as exc:
            raise ConfigError(f"--memory-budget: {exc}") from None
    return space, out_dir


def _settings(o: dict[str, Any], space: "Space", out_dir: Path) -> "SearchSettings":
    """The options as the search's settings: each setting from the option of its name
    (``--max-latency`` for ``max_latency_ms``), the checked space and run directory."""
    from justenough.settings import SearchSettings

    given = {field.name: o[field.name] for field in fields(SearchSettings) if field.name in o and field.name != "out"}
    return SearchSettings(space=space, out=out_dir, max_latency_ms=o["max_latency"], **given)
