"""The ``init-lab`` command: one deep network started from every init scheme, many restarts each,
and the lab's summary as a table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table

from justenough.cli.app import app, cli_text, out_console
from justenough.cli.arguments import check_data_arg
from justenough.errors import ConfigError
from justenough.display_numbers import counted, finite_or_none
from justenough.vocab import parse_device

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["init_lab", "split_specs"]


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
    lr: float = typer.Option(1e-3, "--lr", help="Learning rate (Adam), above 0. Example: --lr 3e-3"),
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
    from justenough.cli.config_file import merge_config

    o = merge_config(ctx, init_lab, config)
    if o["data"] is None:
        raise ConfigError("give the DATA (a file or a bundled dataset name), or data = \"...\" in --config")
    for option, name, low in (("--depth", "depth", 1), ("--width", "width", 1), ("--n-init", "n_init", 1), ("--epochs", "epochs", 1)):
        if o[name] < low:
            raise ConfigError(f"{option} must be at least {low}, got {o[name]}")
    parse_device(o["device"], flag="--device")  # refused now, before the data is read or the run directory is made
    data = str(o["data"])
    check_data_arg(data)
    from justenough.cli.init_lab_progress import make_lab_progress
    from justenough.diagnose.lab import init_lab as run_lab

    source: Any = data
    if o["target"] is not None:
        # The lab loads with the default target; a named one needs the table prepared here.
        from justenough.data import load, prepare

        source = prepare(load(data, target=o["target"], seed=o["seed"]), seed=o["seed"], device=o["device"])
    console = out_console()
    with make_lab_progress(console) as progress:
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
            progress=progress,
        )
    out_dir = Path(o["out"]) if o["out"] is not None else Path("runs") / f"init-lab-{Path(data).stem}"
    saved = Path(result.save(out_dir))
    console = out_console()
    title = f"init lab: depth {o['depth']} x width {o['width']} {o['activation']}, {counted(o['n_init'], 'restart')} x {counted(o['epochs'], 'epoch')}"
    console.print(_init_lab_table(result.summary, title=title, width=o["width"]))
    for notice in result.notices:
        console.print(f"[yellow]note:[/] {cli_text(notice)}", highlight=False)
    console.print(f"[bold]summary:[/] {saved / 'summary.csv'}", highlight=False)
    console.print(f"[bold]report:[/] {saved / 'init_lab.html'}", highlight=False)


def _init_lab_table(summary: "pd.DataFrame", *, title: str, width: int) -> Table:
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
    from justenough.space.dims import split_list

    return tuple(s for s in split_list(text) if s)
