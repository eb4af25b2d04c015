"""Which format an export is written in, and that its file name agrees.

A file's extension is what tools (and people) go by: an ONNX graph written to ``model.pt`` fails
in ``torch.jit.load`` with an error that says nothing about the cause. So the extension decides the
format when none is given, and a format that contradicts the extension is refused. Only the
command line exports (``justenough export``), so the messages name its flags.
"""

from __future__ import annotations

from pathlib import Path

from justenough.errors import ConfigError

__all__ = ["EXPORT_FORMATS", "DEFAULT_SUFFIX", "format_of", "export_format", "check_export_suffix"]

EXPORT_FORMATS = ("onnx", "torchscript", "safetensors")
# The extensions each format is known by; the first is the one a default file name gets.
_SUFFIXES: dict[str, tuple[str, ...]] = {"onnx": (".onnx",), "torchscript": (".pt", ".ts"), "safetensors": (".safetensors",)}
DEFAULT_SUFFIX: dict[str, str] = {fmt: suffixes[0] for fmt, suffixes in _SUFFIXES.items()}
_NAMED = "name the file .onnx (ONNX), .pt or .ts (TorchScript) or .safetensors (weights only)"


def format_of(path: str | Path) -> str | None:
    """The format a file name's extension stands for (``model.pt`` -> ``"torchscript"``), or None."""
    suffix = Path(path).suffix.lower()
    return next((fmt for fmt, suffixes in _SUFFIXES.items() if suffix in suffixes), None)


def check_export_suffix(path: str | Path, fmt: str) -> None:
    """Refuse writing ``fmt`` into a file whose extension names another format; an extension no
    format claims is the caller's choice."""
    named = format_of(path)
    if named is not None and named != fmt:
        fixed = Path(path).with_suffix(DEFAULT_SUFFIX[fmt])
        raise ConfigError(
            f"`--format {fmt}` does not match `--out {path}`: a {Path(path).suffix} file is {named}; "
            f"write `--out {fixed}` for {fmt}, or `--format {named}` for this file name"
        )


def export_format(out: str | Path | None, given: str | None) -> str:
    """The format of an export: ``given`` when there is one (checked against ``out``'s extension),
    else the one ``out``'s extension names, else ONNX when no file is named."""
    if given is not None:
        if out is not None:
            check_export_suffix(out, given)
        return given
    if out is None:
        return "onnx"
    named = format_of(out)
    if named is None:
        suffix = Path(out).suffix
        what = f"the extension {suffix!r}" if suffix else "a file name without an extension"
        raise ConfigError(
            f"`--out {out}`: cannot tell the export format from {what}: {_NAMED}, or give `--format ...`"
        )
    return named
