"""The report's data section: the table read (source, target, rows, features), the split, the
preprocessing (fitted on the training rows only), the notices and the class balance, from
``data.json``. Every user string goes through ``formatting.escape``.
"""

from __future__ import annotations

from typing import Any

from justenough.display_numbers import finite_or_none
from justenough.report.formatting import escape, note_html, number_text
from justenough.run.files import RunFiles

__all__ = ["data_section"]


def _value_html(value: Any, depth: int = 0) -> str:
    """A JSON value as compact, escaped HTML (nested dicts as nested lists, long lists shortened)."""
    if isinstance(value, dict):
        if not value:
            return "—"
        items = "".join(f"<li><span class=k>{escape(k)}</span> {_value_html(v, depth + 1)}</li>" for k, v in value.items())
        return f'<ul class="kv">{items}</ul>'
    if isinstance(value, list):
        shown = ", ".join(escape(v) if not isinstance(v, (dict, list)) else _value_html(v, depth + 1) for v in value[:20])
        more = f" … ({len(value) - 20} more)" if len(value) > 20 else ""
        return f"{shown}{escape(more)}" if value else "—"
    if isinstance(value, float):
        return escape(number_text(value, 4))
    if value is None:
        return "—"
    return escape(value)


def _lines_html(value: Any) -> str:
    """A list of sentences (notices) as one line each."""
    if not isinstance(value, list):
        return _value_html(value)
    if not value:
        return "—"
    return '<ul class="lines">' + "".join(f"<li>{escape(v)}</li>" for v in value) + "</ul>"


def _class_balance(balance: Any) -> str:
    if isinstance(balance, list):
        balance = {str(i): v for i, v in enumerate(balance)}
    if not isinstance(balance, dict) or not balance:
        return ""
    values = {k: finite_or_none(v) or 0.0 for k, v in balance.items()}
    total = sum(values.values()) or 1.0
    top = max(values.values()) or 1.0
    is_fraction = all(v <= 1.0 for v in values.values()) and abs(total - 1.0) < 1e-6
    rows = []
    for k, v in values.items():
        share = v / total
        count = f"{100 * v:.1f}%" if is_fraction else f"{int(v):,} ({100 * share:.1f}%)"
        rows.append(
            f'<tr><td class="label" title="{escape(k)}">{escape(k)}</td><td class="bar-cell"><span class="bar" style="width:{100 * v / top:.1f}%">'
            f"</span></td><td class=num>{escape(count)}</td></tr>"
        )
    return (
        '<div class="table-box"><table class="balance"><caption>class balance</caption>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def data_section(run: RunFiles) -> str:
    """The data section: what was read, how it was split and preprocessed, the class balance."""
    data = run.data
    if data is None:
        return note_html("The data description was not recorded (data.json is missing).")
    known = ("source", "target", "rows", "features", "features_out", "task", "split_sizes", "preprocessing")
    names = {"split_sizes": "split sizes", "feature_names": "feature names", "class_balance": "class balance",
             "features_out": "features after encoding"}
    rows = []
    for key in known:
        if key in data:
            value = data[key]
            if key == "preprocessing" and isinstance(value, dict) and "features_out" in data:
                # data.json records the encoded width twice (the data's and the preprocessor's own
                # summary); the page shows it once, next to the raw feature count.
                value = {k: v for k, v in value.items() if k != "features_out"}
            rows.append(f"<tr><th>{escape(names.get(key, key))}</th><td>{_value_html(value)}</td></tr>")
    for key, value in data.items():
        if key in known or key == "class_balance":
            continue
        # Notices are sentences: one per line, never run together as a comma-separated list.
        cell = _lines_html(value) if key == "notices" else _value_html(value)
        rows.append(f"<tr><th>{escape(names.get(key, key.replace('_', ' ')))}</th><td>{cell}</td></tr>")
    split = data.get("split_sizes")
    split_note = ""
    n_scored = int(run.summary_fields.test_models_scored or 1)
    if isinstance(split, dict) and "test" in split:
        split_note = note_html(
            "Preprocessing was fitted on the training split only; the test split was sealed until the "
            + ("final, single scoring of the chosen model." if n_scored == 1 else
               f"final scoring, and has now scored {n_scored} models of this run: its score is no longer "
               "an unbiased estimate.")
        )
    return (
        f'<div class="data-grid"><div class="table-box"><table class="facts-table"><tbody>{"".join(rows)}</tbody>'
        f"</table></div>{_class_balance(data.get('class_balance'))}</div>{split_note}"
    )
