"""The fitted feature preprocessing: impute, scale (standardize by default; ``numeric_scaling.py``)
and one-hot encode, with parameters fitted on the training rows only and saved as plain JSON (no pickle)."""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from justenough.data.messages import note, quote_list
from justenough.data.numeric_scaling import describe_scaling, fit_numeric_scaling, read_numeric_scaling
from justenough.data.numeric_scaling import read_scaling_params, scale_numeric
from justenough.data.validate import ID_MIN_ROWS
from justenough.data.values import category_text, is_text_like, numbers_in, is_present, row_label, to_float
from justenough.errors import ConfigError, DataError, option
from justenough.vocab import NumericScaling

_PREPROCESSOR_FORMAT = "justenough.preprocessor/1"


_ID_NAME = re.compile(r"(.*[\W_])?(id|idx|index|key|uuid|guid|row|rownum|row_number)", re.IGNORECASE)


def _looks_like_id_name(name: str) -> bool:
    return bool(_ID_NAME.fullmatch(name.strip())) or name.lower().startswith("unnamed") or name.endswith(("Id", "ID"))


class Preprocessor:
    """Impute, scale and one-hot encode, with parameters fitted on the training rows only.

    Numeric columns: missing values -> the train median, then, by ``numeric`` (a ``NumericScaling``),
    ``(x - mean) / std`` with the train mean and (population) standard deviation (``standard``, the
    default), a robust scaling with a smooth clip (``robust``) or a quantile transform to a normal
    (``quantile``): ``numeric_scaling.py``. Text columns: missing values -> the most frequent train
    category, then one-hot over the train categories; a category unseen in training maps to all zeros.
    Constant columns, columns missing in every training row and ID-like columns (unique per row:
    text, or integers that look like row numbers or are named like an ID) are dropped with a notice.
    ``max_categories`` (None: no limit) refuses text columns with more categories.
    """

    def __init__(self, max_categories: int | None = None, numeric: NumericScaling | str = NumericScaling.STANDARD) -> None:
        self.max_categories = max_categories
        self.numeric = read_numeric_scaling(numeric)
        self.feature_names_in: list[str] = []
        self.columns: list[dict[str, Any]] = []  # used columns in input order, each with its parameters
        self.dropped: dict[str, str] = {}
        self.feature_names_out: list[str] = []
        self.notices: list[str] = []
        self.fitted = False

    # --- fitting -------------------------------------------------------------------------------

    def fit(self, features: pd.DataFrame) -> "Preprocessor":
        """Learn the parameters from the training rows; returns ``self``."""
        if not isinstance(features, pd.DataFrame):
            raise DataError(f"Preprocessor.fit takes a pandas DataFrame, got {type(features).__name__}")
        if len(features) == 0:
            raise DataError("cannot fit the preprocessing on zero training rows: pass more rows")
        names = [str(c) for c in features.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataError(f"column name(s) {quote_list(dupes)} appear more than once; rename them")
        self.feature_names_in, self.columns, self.dropped, self.notices = names, [], {}, []
        for name, col in zip(names, (features.iloc[:, j] for j in range(features.shape[1]))):
            spec = self._fit_column(name, col)
            if spec is not None:
                self.columns.append(spec)
        if self.dropped:
            reasons = "; ".join(f"{n!r} ({why})" for n, why in self.dropped.items())
            note(self.notices, f"dropped {len(self.dropped)} feature column(s): {reasons}")
        if not self.columns:
            raise DataError(
                "no usable feature columns remain: every column was dropped "
                f"({'; '.join(f'{n!r}: {w}' for n, w in self.dropped.items())}); add informative feature columns"
            )
        self.feature_names_out = [n for spec in self.columns for n in _names_out(spec)]
        self.fitted = True
        return self

    def _fit_column(self, name: str, col: pd.Series) -> dict[str, Any] | None:
        n = len(col)
        if not is_text_like(col):
            values = _numeric(col, name, "the training rows")
            present = values[~np.isnan(values)]
            if present.size == 0:
                self.dropped[name] = "missing in every training row"
                return None
            if np.unique(present).size == 1:
                self.dropped[name] = f"constant: always {present[0]:g}"
                return None
            is_int = pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col)
            if is_int and present.size == n >= ID_MIN_ROWS and np.unique(present).size == n:
                span = float(present.max() - present.min())
                if _looks_like_id_name(name) or span < 2 * n:
                    self.dropped[name] = "ID-like: a different integer in every row"
                    return None
            with np.errstate(all="ignore"):
                median = float(np.median(present))
                filled = np.where(np.isnan(values), median, values)
            params = fit_numeric_scaling(self.numeric, present, filled)
            numbers = [median, *(v for p in params.values() for v in (p if isinstance(p, list) else [p]))]
            if not all(math.isfinite(v) for v in numbers):
                raise DataError(
                    f"column {name!r} has values too large to standardize (beyond about 1e300): rescale the column"
                )
            return {"name": name, "kind": "numeric", "median": median, **params}
        cats = _categories(col)
        present = cats[pd.notna(cats)]
        if present.size == 0:
            self.dropped[name] = "missing in every training row"
            return None
        counts = Counter(present.tolist())
        if len(counts) == 1:
            self.dropped[name] = f"constant: always {present[0]!r}"
            return None
        if present.size == n >= ID_MIN_ROWS and len(counts) == n:
            self.dropped[name] = "ID-like: a different value in every row"
            return None
        if self.max_categories is not None and len(counts) > self.max_categories:
            raise DataError(
                f"column {name!r} has {len(counts)} categories, more than {option('max_categories', self.max_categories)}: "
                f"raise the limit ({option('max_categories')}) or drop the column"
            )
        categories = sorted(counts)
        mode = max(categories, key=lambda c: (counts[c], -categories.index(c)))  # ties: first in sorted order
        return {"name": name, "kind": "categorical", "categories": categories, "mode": mode}

    # --- predict-time checks and the transform --------------------------------------------------

    def _lookup(self, features: pd.DataFrame) -> dict[str, Any]:
        """Map the names the model needs to the frame's columns; raise on missing or ambiguous ones."""
        if not self.fitted:
            raise DataError("this Preprocessor is not fitted: call fit(features) first, or load a fitted one")
        if not isinstance(features, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame of features, got {type(features).__name__}")
        by_name: dict[str, Any] = {}
        dupes = []
        for c in features.columns:
            key = c if isinstance(c, str) else str(c)
            if key in by_name:
                dupes.append(key)
            by_name[key] = c
        needed = [spec["name"] for spec in self.columns]
        clash = sorted(set(dupes) & set(needed))
        if clash:
            raise DataError(f"column name(s) {quote_list(clash)} appear more than once in the data; keep one of each")
        missing = [n for n in needed if n not in by_name]
        if missing:
            hints = []
            for m in missing[:5]:
                # Names that differ only in case are the likeliest mistake; difflib misses them
                # when the name is short ("AGE" vs "age" scores 0).
                same_but_case = [c for c in by_name if c.lower() == m.lower()]
                if same_but_case:
                    hints.append(f"{m!r} (did you mean {same_but_case[0]!r}? the names differ only in case)")
                    continue
                close = difflib.get_close_matches(m, list(by_name), n=1, cutoff=0.6)
                if close:
                    hints.append(f"{m!r} (is it {close[0]!r}?)")
            hint = f" Close names: {', '.join(hints)}." if hints else ""
            raise DataError(
                f"missing column(s) the model needs: {quote_list(missing)}.{hint} Add them to the data "
                "(names are matched exactly; column order does not matter)"
            )
        return by_name

    def check_columns(self, features: pd.DataFrame) -> list[str]:
        """Check a frame at predict time: missing columns raise ``DataError`` naming them, extra
        columns are ignored (returned as a notice and logged), column order does not matter.
        Categories training never saw are counted and named, one notice per column: they are
        encoded as all zeros, so those rows are predicted as if the column were absent (one that
        differs from a training category only in case is named with it). Missing values are
        counted per column with what they are imputed with."""
        by_name = self._lookup(features)
        known = set(self.feature_names_in)
        extra = [n for n in by_name if n not in known]
        notices: list[str] = []
        if extra:
            note(notices, f"ignored {len(extra)} column(s) the model does not use: {quote_list(extra)}")
        for spec in self.columns:
            if spec["kind"] != "categorical":
                continue
            col = features[by_name[spec["name"]]]
            if isinstance(col, pd.DataFrame):  # duplicated non-needed names resolve to frames; take the first
                col = col.iloc[:, 0]
            cats = pd.Series(_categories(col))
            unseen = cats.notna() & ~cats.isin(spec["categories"])
            if unseen.any():
                values = sorted(cats[unseen].unique().tolist())
                note(
                    notices,
                    f"column {spec['name']!r}: {int(unseen.sum())} of {len(cats)} row(s) hold {len(values)} "
                    f"categor{'y' if len(values) == 1 else 'ies'} not seen in training ({quote_list(values, 5)}); "
                    "they are encoded as all zeros (no known category)" + _case_hint(values, spec["categories"]),
                )
        notices.extend(self.imputation_notices(features))
        return notices

    def imputation_notices(self, features: pd.DataFrame) -> list[str]:
        """One notice per used column with missing values in ``features``: how many, and the value
        the transform puts there (the training median, or the most frequent training category)."""
        by_name = self._lookup(features)
        notices: list[str] = []
        for spec in self.columns:
            col = features[by_name[spec["name"]]]
            if isinstance(col, pd.DataFrame):  # duplicated non-needed names resolve to frames; take the first
                col = col.iloc[:, 0]
            if spec["kind"] == "numeric":
                missing = int(np.isnan(_numeric(col, spec["name"], "the data")).sum())
                value = f"the training median {spec['median']:g}"
            else:
                missing = int(pd.isna(_categories(col)).sum())
                value = f"the most frequent training category {spec['mode']!r}"
            if missing:
                note(notices, f"column {spec['name']!r}: {missing} of {len(col)} value(s) missing, imputed with {value}")
        return notices

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """Raw feature rows -> float32 ``[N, n_features_out]`` (columns found by name)."""
        by_name = self._lookup(features)
        n = len(features)
        out = np.zeros((n, len(self.feature_names_out)), dtype=np.float64)  # [N, F]
        j = 0
        for spec in self.columns:
            col = features[by_name[spec["name"]]]
            if isinstance(col, pd.DataFrame):  # duplicated non-needed names resolve to frames; take the first
                col = col.iloc[:, 0]
            if spec["kind"] == "numeric":
                values = _numeric(col, spec["name"], "the data")
                with np.errstate(all="ignore"):
                    values = np.where(np.isnan(values), spec["median"], values)
                out[:, j] = scale_numeric(self.numeric, spec, values)
                j += 1
            else:
                cats = _categories(col)
                cats = np.where(pd.isna(cats), spec["mode"], cats)
                codes = pd.Index(spec["categories"]).get_indexer(cats.astype(object))  # -1: unseen -> all zeros
                rows = np.nonzero(codes >= 0)[0]
                out[rows, j + codes[rows]] = 1.0
                j += len(spec["categories"])
        with np.errstate(all="ignore"):
            result = out.astype(np.float32)
        if not np.isfinite(result).all():
            bad_col = int(np.nonzero(~np.isfinite(result).all(axis=0))[0][0])
            raise DataError(
                f"feature {self.feature_names_out[bad_col]!r} has values too large for float32 after standardizing: "
                "check that column for extreme values"
            )
        return result

    # --- JSON ------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The fitted parameters as JSON-able data (floats round-trip exactly through ``json``)."""
        if not self.fitted:
            raise DataError("this Preprocessor is not fitted: call fit(features) first")
        saved = {
            "format": _PREPROCESSOR_FORMAT,
            "feature_names_in": list(self.feature_names_in),
            "columns": [dict(spec) for spec in self.columns],
            "dropped": dict(self.dropped),
            "feature_names_out": list(self.feature_names_out),
            "max_categories": self.max_categories,
        }
        if self.numeric != NumericScaling.STANDARD:  # the default writes the file it always wrote
            saved["numeric"] = str(self.numeric)
        return saved

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Preprocessor":
        """Rebuild a fitted preprocessor from ``to_json()`` output; malformed data raises ``DataError``."""
        try:
            if data.get("format") != _PREPROCESSOR_FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}, expected {_PREPROCESSOR_FORMAT!r}")
            # A file without "numeric" was written by the default (or before there was a choice).
            pre = cls(max_categories=data.get("max_categories"), numeric=data.get("numeric", NumericScaling.STANDARD))
            pre.feature_names_in = [str(n) for n in data["feature_names_in"]]
            pre.dropped = {str(k): str(v) for k, v in dict(data["dropped"]).items()}
            for spec in data["columns"]:
                if spec["kind"] == "numeric":
                    median = float(spec["median"])
                    if not math.isfinite(median):
                        raise ValueError(f"column {spec['name']!r} has an invalid median {median}")
                    clean = read_scaling_params(pre.numeric, spec)
                    pre.columns.append({"name": str(spec["name"]), "kind": "numeric", "median": median, **clean})
                elif spec["kind"] == "categorical":
                    categories = [str(c) for c in spec["categories"]]
                    pre.columns.append(
                        {"name": str(spec["name"]), "kind": "categorical", "categories": categories, "mode": str(spec["mode"])}
                    )
                else:
                    raise ValueError(f"unknown column kind {spec['kind']!r}")
            pre.feature_names_out = [n for spec in pre.columns for n in _names_out(spec)]
            if pre.feature_names_out != [str(n) for n in data["feature_names_out"]]:
                raise ValueError("feature_names_out does not match the columns")
        except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
            raise DataError(f"the saved preprocessing is malformed ({exc}); re-create it with Preprocessor.fit") from exc
        pre.fitted = True
        return pre

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description of what the preprocessing does."""
        numeric = [s["name"] for s in self.columns if s["kind"] == "numeric"]
        categorical = {s["name"]: len(s["categories"]) for s in self.columns if s["kind"] == "categorical"}
        return {
            "numeric": {"columns": len(numeric), "imputation": "median", "scaling": describe_scaling(self.numeric)},
            "categorical": {
                "columns": len(categorical),
                "categories": categorical,
                "imputation": "most frequent",
                "encoding": "one-hot (unseen category -> all zeros)",
            },
            "dropped": dict(self.dropped),
            "features_out": len(self.feature_names_out),
        }

    def __repr__(self) -> str:
        state = f"{len(self.columns)} columns -> {len(self.feature_names_out)} features" if self.fitted else "not fitted"
        return f"Preprocessor({state})"


def _case_hint(unseen: list[str], categories: list[str]) -> str:
    """"; 'RED' is the training category 'red' in other case, ..." for unseen categories that differ
    from a known one only in case (or surrounding spaces): the likeliest typo, which one-hot
    encoding would otherwise treat as a category of its own."""
    known = {c.strip().casefold(): c for c in categories}
    pairs = [(u, known[u.strip().casefold()]) for u in unseen if u.strip().casefold() in known]
    if not pairs:
        return ""
    shown = ", ".join(f"{u!r} is the training category {c!r} in other case" for u, c in pairs[:5])
    more = f", … ({len(pairs) - 5} more)" if len(pairs) > 5 else ""
    return f"; {shown}{more}: write them as in training to use them"


def _names_out(spec: dict[str, Any]) -> list[str]:
    if spec["kind"] == "numeric":
        return [spec["name"]]
    return [f"{spec['name']}={c}" for c in spec["categories"]]


def _numeric(col: pd.Series, name: str, where: str) -> np.ndarray:
    """A column the model treats as numbers, as float64 with NaN for missing; text that parses is
    accepted (a numeric column that arrives as strings), anything else raises ``DataError``."""
    if pd.api.types.is_bool_dtype(col) or (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_complex_dtype(col)):
        values = to_float(col)
    else:
        present = is_present(col)
        parsed, ok = numbers_in(col[present])
        if not ok.all():
            bad_index = ok[~ok].index[0]
            raise DataError(
                f"column {name!r} should hold numbers, but in {where} {row_label(bad_index)} has "
                f"{str(col.loc[bad_index])[:40]!r}: pass numbers (or blank cells, which are imputed)"
            )
        values = np.full(len(col), np.nan)
        values[np.asarray(present)] = parsed.to_numpy()
    if np.isinf(values).any():
        where_row = row_label(col.index[int(np.argmax(np.isinf(values)))])
        raise DataError(f"column {name!r} has an infinite value in {where} ({where_row}): pass finite numbers or blanks")
    return values


def _categories(col: pd.Series) -> np.ndarray:
    """A column the model treats as categories: object array of category text, None for missing."""
    present = np.asarray(is_present(col))
    return np.array([category_text(v) if ok else None for v, ok in zip(col.astype(object), present)], dtype=object)
