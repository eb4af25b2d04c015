"""Reading a delimited text table (CSV, TSV, optionally gzip-compressed): the encoding, the
delimiter (given or sniffed), the decimal mark (a decimal comma is detected), and the reading
options' own checks."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from justenough.data.messages import note, quote_list
from justenough.errors import ConfigError, DataError, option

_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}
DECIMALS: tuple[str, ...] = (".", ",")  # the decimal marks a text table may use
_DECIMAL_WORDS = {"point": ".", "dot": ".", "period": ".", "comma": ","}
# A number written with a decimal comma: "39,1", "-0,5", ",5", "3.750,0", "1 234 567,25", "1e-3".
# Thousands groups are exactly three digits after a leading group of 1-3 digits (not starting
# with 0), one separator throughout, so a date ("01.02.2024") or a version ("1.2") never matches.
DECIMAL_COMMA_NUMBER = re.compile(
    r"[+-]?(?:(?:[1-9]\d{0,2}(?P<sep>[.\u00a0\u202f ])\d{3}(?:(?P=sep)\d{3})*|\d+)(?:,\d+)?|,\d+)(?:[eE][+-]?\d+)?"
)


def _show_delimiter(d: str) -> str:
    return {"\t": "tab ('\\t')", " ": "space (' ')"}.get(d, repr(d))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}; check the file's permissions") from exc


def read_text(
    path: Path,
    delimiter: str | None,
    decimal: str | None,
    encoding: str | None,
    *,
    compressed: bool,
    tsv: bool,
    notices: list[str],
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table in a text file and what to reuse to read new rows alike; what was guessed or
    repaired on the way (an encoding fallen back to, short rows padded) goes to ``notices``."""
    raw = _read_bytes(path)
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path} is named .gz but is not valid gzip data ({exc}); check the file") from exc
    text = _decode(raw, path, encoding, notices)
    if not text.strip():
        raise DataError(f"{path} is empty (only blank lines): pass a file with a header row and data rows")
    sep = parse_delimiter(delimiter) if delimiter is not None else ("\t" if tsv else _sniff_delimiter(text))
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True))
    except (csv.Error, StopIteration) as exc:
        raise DataError(f"{path}: the header row cannot be read ({exc}); check the file and its delimiter") from exc
    names = [h.strip() for h in header]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(
            f"{path}: column name(s) {quote_list(dupes)} appear more than once in the header; rename them so each "
            "column name is unique"
        )
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} has no columns: pass a file with a header row and data rows") from exc
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{path} cannot be parsed as a table with delimiter {_show_delimiter(sep)}: {detail}; check that every row "
            "has as many fields as the header, quote fields that contain the delimiter, or pass "
            f"{option('delimiter')}"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] == 1:
        col = frame.columns[0]
        hits = [d for d in (*_DELIMITERS, " ", ":") if d != sep and d in col]
        if hits:
            d = hits[0]
            shown = "'\\t'" if d == "\t" else repr(d)
            raise DataError(
                f"{path}: everything landed in one column ({col[:60]!r}) with delimiter {_show_delimiter(sep)}; the file "
                f"seems to use {_show_delimiter(d)} as its delimiter: pass {option('delimiter', d)}"
            )
    if len(frame) == 0:
        raise DataError(
            f"{path} has a header ({quote_list(frame.columns, 6)}) but no data rows: add rows below the header"
        )
    _note_short_rows(text, sep, len(names), path, notices)
    used = _decimal_comma_columns(text, sep, frame, decimal)
    reading = {"decimal": ","} if used is not None else {}
    if delimiter is not None:
        reading["delimiter"] = sep
    if encoding is not None:
        reading["encoding"] = encoding
    if used:
        frame = frame.assign(**used)
    return frame, reading


def _note_short_rows(text: str, sep: str, n_columns: int, path: Path, notices: list[str]) -> None:
    """Say how many rows have fewer fields than the header, and where the first is: pandas pads
    them with blanks, which then are imputed (features) or drop the row (the target), silently."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
    short, first_line, header_seen = 0, 0, False
    try:
        for row in reader:
            if not any(field.strip() for field in row):
                continue  # blank lines are skipped, as pandas skips them
            if not header_seen:
                header_seen = True
            elif len(row) < n_columns:
                short += 1
                first_line = first_line or reader.line_num
    except csv.Error:
        return  # pandas read the file; a quirk csv refuses is not worth a notice
    if short:
        note(
            notices,
            f"{path}: {short} row(s) have fewer fields than the header's {n_columns} (the first on line {first_line}); "
            "their missing cells at the end were read as blanks (a blank feature is imputed, a blank target drops "
            "the row): check those rows and the delimiter",
        )


def _decimal_comma_columns(text: str, sep: str, frame: pd.DataFrame, decimal: str | None) -> dict[str, pd.Series] | None:
    """The columns to read as decimal-comma numbers (float64), or None when the file does not use one.

    ``decimal=","`` forces the decimal comma; ``"."`` rules it out; ``None`` detects it, only when the
    delimiter is not a comma (else a decimal comma would have split the field), from a column whose
    every present value parses with it and at least one holds a comma. Every column that parses
    fully is then converted; one with a value that does not (real text, "1.5") keeps what the
    ordinary reader made of it.
    """
    if decimal == "." or (decimal is None and sep == ","):
        return None
    if decimal is None and all(_is_numeric_column(frame[name]) for name in frame.columns):
        return None  # a value with a decimal comma would have made its column text: none to detect
    cells = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True, dtype=str, low_memory=False)
    cells.columns = list(frame.columns)
    converted: dict[str, pd.Series] = {}
    uses_comma = False
    for name in frame.columns:
        values = cells[name].str.strip()
        present = values.notna() & (values != "")
        shown = values[present]
        if len(shown) == 0 or not shown.map(lambda v: DECIMAL_COMMA_NUMBER.fullmatch(v) is not None).all():
            continue
        comma = bool(shown.str.contains(",", regex=False).any())
        grouped = bool(shown.str.contains(r"\d[.\u00a0\u202f ]\d", regex=True).any())
        uses_comma |= comma
        if comma or grouped:  # plain integers are read right already
            numbers = pd.Series(np.nan, index=frame.index, dtype="float64")
            numbers[present] = [float(re.sub(r"[.\u00a0\u202f ]", "", v).replace(",", ".")) for v in shown]
            converted[name] = numbers
    if decimal is None and not uses_comma:
        return None
    return converted


def _is_numeric_column(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _decode(raw: bytes, path: Path, encoding: str | None, notices: list[str]) -> str:
    if encoding is not None:  # as the user says; utf-8 also drops a BOM
        codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
        try:
            return raw.decode(codec)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path} cannot be decoded as {encoding}: byte {raw[exc.start:exc.start + 1]!r} at position {exc.start} "
                f"is not valid there; pass the file's encoding as {option('encoding', 'cp1252')} (or utf-8, latin-1, ...)"
            ) from None
    head = raw[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"{path} starts like UTF-16 text but cannot be decoded; re-save it as UTF-8") from exc
    kinds = {b"\x1f\x8b": "gzip-compressed data", b"PK\x03\x04": "a zip archive", b"PAR1": "a Parquet file"}
    for magic, kind in kinds.items():
        if head.startswith(magic):
            fix = {
                "gzip-compressed data": "decompress it (gunzip) or name it .csv.gz",
                "a zip archive": "extract the CSV from it",
                "a Parquet file": "rename it with the .parquet extension",
            }[kind]
            raise DataError(f"{path} is {kind}, not a text table: {fix}")
    controls = sum(1 for b in head if b < 9 or 13 < b < 32 or b == 127)
    if b"\x00" in head or controls > 0.05 * max(len(head), 1):
        raise DataError(
            f"{path} holds binary data, not a text table: pass a CSV/TSV text file, a Parquet file (.parquet) or .npz"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text, used = raw.decode("cp1252"), "cp1252 (Windows-1252)"
    except UnicodeDecodeError:
        text, used = raw.decode("latin-1"), "latin-1 (ISO-8859-1)"
    # A guessed encoding reads any bytes, right or wrong: say which, so wrong letters can be fixed.
    note(
        notices,
        f"{path} is not UTF-8 (byte {raw[first_bad:first_bad + 1]!r} at position {first_bad}): read it as {used}; "
        f"if letters look wrong, pass the file's encoding as {option('encoding')} (such as latin-1 or cp1250)",
    )
    return text


def parse_delimiter(delimiter: str) -> str:
    if not isinstance(delimiter, str) or not delimiter:
        raise ConfigError(f"delimiter must be one character such as ',' ';' '\\t' '|', got {delimiter!r}")
    d = _DELIMITER_WORDS.get(delimiter.lower(), delimiter)
    if len(d) != 1:
        raise ConfigError(f"delimiter must be one character such as ',' ';' '\\t' '|' (or 'tab'), got {delimiter!r}")
    return d


def parse_decimal(decimal: str | None) -> str | None:
    """``None``/``"auto"`` (detect), ``"."`` or ``","`` (also ``"point"``, ``"comma"``)."""
    if decimal is None:
        return None
    if isinstance(decimal, str):
        d = _DECIMAL_WORDS.get(decimal.strip().lower(), decimal.strip())
        if d.lower() == "auto":
            return None
        if d in DECIMALS:
            return d
    raise ConfigError(f"decimal must be '.' or ',' (or 'auto' to detect it), got {decimal!r}: pass {option('decimal', ',')} for 39,1")


def parse_encoding(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        if not isinstance(encoding, str):
            raise LookupError(encoding)
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(
            f"unknown encoding {encoding!r}: use a Python codec name such as {option('encoding', 'utf-8')}, cp1252 or latin-1"
        ) from None
    return encoding


def _sniff_delimiter(text: str) -> str:
    """The candidate delimiter that splits the first lines into the most, equally long, rows."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_cols = ",", 1
    for d in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=d)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        if consistent >= 0.9 and counts[0] > best_cols:
            best, best_cols = d, counts[0]
    return best
