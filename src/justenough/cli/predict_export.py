"""The commands that use a run's model: ``predict`` (new rows, read as the run's table was) and
``export`` (the network for deployment, with a description of its inputs and output)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional

import typer

from justenough.cli.app import app, cli_text, err
from justenough.cli.arguments import dataset_hint, delimiter_help, encoding_help, is_dataset, validate_choice
from justenough.errors import ArtifactError, ConfigError, DataError
from justenough.vocab import Task

if TYPE_CHECKING:
    import pandas as pd

    from justenough.run.model import Model

__all__ = ["predict", "export", "features_path"]


def _reading(model: "Model", **given: str | None) -> dict[str, str | None]:
    """How to read predict's rows: what the run's table used (``model.info["reading"]``: its
    decimal comma, and a delimiter, encoding or dates given to search), the flags overriding it."""
    saved = dict(model.info.get("reading") or {})
    return {key: value if value is not None else saved.get(key) for key, value in given.items()}


def _read_rows(source: str, reading: dict[str, str | None] | None = None) -> "pd.DataFrame":
    """A raw table (no target needed) for prediction, read as ``data.load`` reads tables: a
    CSV/TSV/Parquet path or a bundled dataset name; ``reading``: delimiter, decimal, encoding."""
    from justenough.data import read_rows

    path = Path(source)
    if not path.exists() and not is_dataset(source):
        raise DataError(
            f"DATA {source!r}: no such file: {dataset_hint(source)}give a CSV, TSV or Parquet file of rows to predict"
        )
    notices: list[str] = []
    rows = read_rows(source, **(reading or {}), notices=notices)
    _print_notices(notices)
    return rows


def _print_notices(notices: Iterable[str] | None) -> None:
    for notice in notices or []:
        err.print(f"[yellow]note:[/] {cli_text(notice)}", highlight=False)


@app.command()
def predict(
    run: Path = typer.Argument(..., metavar="RUN", help="A run directory (or its model/ folder). Example: runs/iris"),
    data: str = typer.Argument(..., metavar="DATA", help="Rows to predict: CSV/TSV/Parquet with the training columns, any order. Example: new.csv"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the predictions CSV here (default: print to stdout). Example: --out preds.csv"),
    proba: bool = typer.Option(False, "--proba", help="Add one probability column per class (classification). Example: --proba"),
    id_col: Optional[str] = typer.Option(None, "--id", help="Copy this column into the output, first. Example: --id customer_id"),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help=delimiter_help("as the run's table, else sniffed")),
    decimal: Optional[str] = typer.Option(None, "--decimal", help="The decimal mark, '.' or ',' (default: as the run's table, else detected). Example: --decimal ,"),
    encoding: Optional[str] = typer.Option(None, "--encoding", help=encoding_help("as the run's table, else UTF-8 with or without BOM, then cp1252")),
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
    rows = _read_rows(data, _reading(model, delimiter=delimiter, decimal=decimal, encoding=encoding, dates=None))
    features = rows
    if id_col is not None:
        if id_col not in rows.columns:
            more = ", …" if len(rows.columns) > 12 else ""
            raise DataError(f"--id {id_col!r}: no such column in {data} (columns: {', '.join(map(str, rows.columns[:12]))}{more})")
        if id_col not in model.feature_names_in:
            features = rows.drop(columns=[id_col])
    if proba and model.task != Task.CLASSIFICATION:
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


def features_path(path: Path) -> Path:
    """The input description written next to an export: ``model.onnx`` -> ``model.onnx.features.json``."""
    return path.with_name(path.name + ".features.json")


@app.command()
def export(
    run: Path = typer.Argument(..., metavar="RUN", help="A run directory (or its model/ folder). Example: runs/iris"),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="onnx, torchscript or safetensors (default: from --out's extension: .onnx, .pt or .ts, .safetensors; onnx without --out). Example: --format torchscript"),
    out: Optional[Path] = typer.Option(None, "--out", help="Output file; its extension must match --format (default: RUN/export/model.<ext>). Example: --out iris.onnx"),
    inputs: str = typer.Option("preprocessed", "--inputs", help="What the exported model takes: preprocessed features, or raw numeric columns with the preprocessing built in (onnx and torchscript; numeric columns only). Example: --inputs raw"),
) -> None:
    """Export the network for deployment.

    By default the exported network maps preprocessed features [batch, n_features] to logits
    (classification) or the standardized target (regression). With --inputs raw it takes the raw
    numeric columns [batch, n_columns] (NaN for a missing value) and returns logits or predictions
    in the target's units: the preprocessing is part of the file. PATH.features.json lists the
    inputs in order, the preprocessing and the output (classes, or the target's mean and std).

    The format follows --out's extension (.onnx ONNX, .pt or .ts TorchScript, .safetensors);
    --format that contradicts it is refused.

    Example: justenough export runs/iris --format onnx --inputs raw --out iris.onnx
    """
    from justenough.run.atomic import write_json
    from justenough.run.model import load

    from justenough.run.export_format import DEFAULT_SUFFIX, EXPORT_FORMATS, export_format

    given = validate_choice("--format", format, EXPORT_FORMATS) if format is not None else None
    inputs = validate_choice("--inputs", inputs, ("preprocessed", "raw"))
    if out is not None and Path(out).is_dir():
        raise ConfigError(f"--out {out} is a directory: give a file name, e.g. {Path(out) / ('model' + DEFAULT_SUFFIX[given or 'onnx'])}")
    fmt = export_format(out, given)  # before the run is read: a wrong name costs nothing and writes nothing
    if inputs == "raw" and fmt == "safetensors":
        raise ConfigError("--inputs raw needs --format onnx or torchscript: safetensors holds the network's weights only")
    run_path = Path(run)
    model = load(run_path)
    if out is None:
        base = run_path if (run_path / "model").is_dir() else run_path.parent
        from justenough.run.files import EXPORT_DIR

        out = base / EXPORT_DIR / f"model{DEFAULT_SUFFIX[fmt]}"
    out = Path(out)
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


def _feature_names_out(model: "Model") -> list[str]:
    names = list(getattr(model.preprocessor, "feature_names_out", []) or [])
    from justenough.run.artifacts import architecture_of

    n_in = int(architecture_of(model.module)["n_in"])  # the raw features in (an ensemble's members share one architecture; a periodic embedding's, if first)
    if len(names) != n_in:
        raise ArtifactError(f"the model takes {n_in} features but its preprocessing names {len(names)}: the run is damaged")
    return names


def _export_description(model: "Model", names_in: list[str], fmt: str, inputs: str = "preprocessed") -> dict[str, Any]:
    """What a deployment needs to feed the exported network and read its output."""
    classification = model.task == Task.CLASSIFICATION
    raw = inputs == "raw"
    output: dict[str, Any]
    k = model.ensemble_size
    if classification:
        output = {"kind": "logits", "classes": [c if isinstance(c, (str, int, float, bool)) else str(c) for c in model.classes],
                  "how": "argmax gives the class index; softmax gives probabilities"}
        if k > 1:  # nets/ensemble.py: the log of the mean probability keeps the meaning of logits
            output["kind"] = "log of the mean probability"
            output["how"] = (f"the log of the mean of {k} networks' probabilities: argmax gives the class index; "
                             "exp (or softmax) gives the probabilities")
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
        **({"ensemble": {"members": k, "mean": "probabilities" if classification else "outputs"}} if k > 1 else {}),
        "note": note,
    }
