"""The report's sections as HTML: the answer, the evidence (complexity, depth x width, restarts,
learning curves, diagnostics) and the data.

Every user string goes through ``formatting.escape``; figures go through ``EmbeddedFigures``.
``section_bodies`` gives each section's HTML by its id (``page.SECTIONS``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from justenough.display_numbers import counted, finite_or_none
from justenough.training_recipe import lr_text
from justenough.run.summary import describe_fit
from justenough.select.ensemble_noise import judged_as_ensembles
from justenough.report import figures, paired_with_best
from justenough.report.data_section import data_section
from justenough.report.embedding import EmbeddedFigures
from justenough.report.formatting import (escape, ms_text, note_html, number_text, score_text, se_text, seconds_text,
                                         si_text, widths_text)
from justenough.report.network_drawing import network_svg
from justenough.run.files import RunFiles
from justenough.run.growth import Growth
from justenough.run.summary import Summary
from justenough.vocab import Task, validation_metric

__all__ = ["section_bodies", "LEADERBOARD_ROWS"]

LEADERBOARD_ROWS = 10


def section_bodies(run: RunFiles, figs: EmbeddedFigures) -> dict[str, str]:
    """Each section's HTML by its id; the figures they show are collected in ``figs``."""
    metric, percent = _metric(run.summary_fields)
    return {
        "answer": _answer(run, percent, metric),
        "complexity": _complexity(run, figs, percent, metric) + paired_with_best.section(run, figs, percent, metric),
        "heatmap": _heatmap(run, figs, percent, metric),
        "restarts": _restarts(run, figs, percent, metric),
        "curves": _curves(run, figs, percent, metric),
        "diagnostics": _diagnostics(run, figs),
        "data": data_section(run),
    }


def _metric(summary: Summary) -> tuple[str, bool]:
    metric = summary.shown_metric or validation_metric(summary.task)
    return metric, summary.percent


def _widths(run: RunFiles, chosen: dict[str, Any]) -> list[int]:
    """The chosen network's hidden widths: the summary's list, else its leaderboard row's (read by run.files)."""
    widths = chosen.get("widths")
    if widths is None:
        widths = run.config_widths.get(str(chosen["key"]), ())
    return [int(w) for w in widths]


def _io_sizes(run: RunFiles, widths: list[int], params: Any) -> tuple[int | None, int | None]:
    """Input and output sizes of the chosen network: from model.json when present, else solved
    from the parameter count (params = (n_in + 1) w1 + hidden + (w_L + 1) n_out) with n_out from data.json."""
    arch = (run.model or {}).get("architecture") or (run.model or {})
    n_in, n_out = arch.get("n_in"), arch.get("n_out")
    if isinstance(n_in, int) and isinstance(n_out, int):
        return n_in, n_out
    data = run.data or {}
    candidates: list[int] = []
    for key in ("n_outputs", "n_classes"):
        if isinstance(data.get(key), int):
            candidates.append(int(data[key]))
    classes = data.get("classes") or data.get("class_balance")
    if isinstance(classes, (list, dict)) and classes:
        candidates.append(len(classes))
    if data.get("task") == Task.REGRESSION:
        candidates.insert(0, 1)
    candidates += [1, 2]
    p = finite_or_none(params)
    if p is None or not widths:
        return None, (candidates[0] if classes or data.get("task") else None)
    hidden = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    for k in candidates:
        rest = p - hidden - (widths[-1] + 1) * k - widths[0]
        if rest > 0 and rest % widths[0] == 0:
            return int(rest // widths[0]), k
    return None, None


def _fact(label: str, value: str, detail: str = "") -> str:
    d = f'<span class="detail">{detail}</span>' if detail else ""
    return f'<div class="fact"><dt>{escape(label)}</dt><dd>{value}{d}</dd></div>'


def _recorded(run: RunFiles, name: str, board_row: pd.Series | None, column: str) -> Any:
    """The summary's ``name``; where the run did not record that key (an earlier version's), the
    chosen config's leaderboard ``column``: the number the summary copies."""
    if name in run.summary:
        return getattr(run.summary_fields, name)
    return None if board_row is None else board_row.get(column)


def _tested_kind(fit: dict[str, Any]) -> str:
    """The tested model in a word or three: ``refit``, ``best restart``, or ``ensemble of 5`` (refit or not)."""
    refit = fit.get("fit_on") == "train+validation"
    if fit.get("members"):
        return f"ensemble of {fit['members']}" + (" (refit)" if refit else "")
    return "refit" if refit else "best restart"


def _size_fact(params: Any, flops: Any, fit: Any) -> str:
    """The model's size: one network's parameters, or an ensemble's (k x the network's, all of
    which predict) with the network's beside them; FLOPs per sample likewise."""
    members = fit.get("members") if isinstance(fit, dict) else None
    if members and finite_or_none(fit.get("params")) is not None:
        per = f"{number_text(params)} per network x {int(members)}; {si_text(flops)} FLOPs per sample per network"
        return _fact("size", f"{escape(number_text(fit['params']))} params", escape(per))
    return _fact("size", f"{escape(number_text(params))} params", f"{escape(si_text(flops))} FLOPs per sample")


def _recipe_settings(chosen: Any) -> list[str]:
    """How the chosen config was trained, for its card: the lr, the batch (a number, also where
    the space said "auto") and, where not the defaults, the schedule and the label smoothing."""
    out = []
    if chosen.get("lr") is not None:
        out.append(f"lr {number_text(chosen['lr'], 4)}")
    if finite_or_none(chosen.get("batch_size")) is not None:
        out.append(f"batch {int(chosen['batch_size'])}")
    if chosen.get("schedule") not in (None, "", "constant"):
        out.append(f"schedule {chosen['schedule']}")
    if finite_or_none(chosen.get("label_smoothing")):
        out.append(f"label smoothing {number_text(chosen['label_smoothing'], 4)}")
    return out


def _validated_as(s: Summary, n_init: Any) -> str:
    """What the validation score is of: ``"its ensemble of 5 restarts"`` (judged by ensembles) or
    ``"mean over 5 restarts"``."""
    n = escape(number_text(n_init))
    return f"its ensemble of {n} restarts" if s.judged_by == "ensembles" else f"mean over {n} restart{'' if n_init == 1 else 's'}"


def _answer(run: RunFiles, percent: bool, metric: str) -> str:
    s = run.summary_fields
    chosen = s.chosen
    board = run.leaderboard
    rows = board[board["key"] == chosen["key"]]
    row = rows.iloc[0] if len(rows) else None
    widths = _widths(run, chosen)
    params = chosen.get("params", None if row is None else row.get("params"))
    flops = chosen.get("flops", None if row is None else row.get("flops"))
    n_in, n_out = _io_sizes(run, widths, params)
    activation = str(chosen.get("activation", "" if row is None else row.get("activation", "")))
    svg = network_svg(n_in, widths, n_out, activation=activation)

    label = chosen.get("label") or (None if row is None else row.get("label"))
    arch = " → ".join([str(n_in or "?"), *[str(w) for w in widths], str(n_out or "?")])
    settings = [f"{k} {chosen[k]}" for k in ("activation", "init", "optimizer") if chosen.get(k)]
    settings += _recipe_settings(chosen)
    title = escape(label) if label and str(label) != "nan" else escape(arch)

    test = score_text(s.test_score, percent)
    val_mean = score_text(_recorded(run, "val_score_mean", row, "val_mean"), percent)
    val_se = se_text(_recorded(run, "val_score_se", row, "val_se"), s, percent)
    n_init = _recorded(run, "n_init", row, "n_restarts")
    p_good = finite_or_none(_recorded(run, "p_good", row, "p_good"))
    r95 = _recorded(run, "restarts_for_95", row, "restarts_for_95")
    r95_value = finite_or_none(r95)
    r95_text = "n/a" if r95_value is None else f"{int(r95_value)}"
    if p_good is None:
        luck = "not recorded"
    else:
        luck = f"{100 * p_good:.0f}% of restarts land near the best"
    lat = s.latency_ms or {}
    throughput = finite_or_none(s.throughput)
    other_metrics = {k: v for k, v in (s.test_metrics or {}).items() if k != metric}
    extra = ", ".join(f"{escape(k)} {escape(number_text(v, 4))}" for k, v in other_metrics.items())

    n_scored = int(s.test_models_scored or 1)  # runs before the count scored one model
    baseline = s.baseline
    baseline_text = ""
    if isinstance(baseline, dict) and finite_or_none(baseline.get("val_score")) is not None:
        from justenough.select.baseline import describe

        baseline_text = "; no network: " + escape(describe(baseline, percent))
    facts = "".join(
        [
            _fact(f"test {metric}", f'<span class="big">{escape(test)}</span>',
                  ("on the validation rows: no independent test split, so optimistic"
                   if s.test_split == "validation" else "scored once, on the sealed test split"
                   if n_scored == 1 else f"the sealed test split has now scored {n_scored} models: "
                   "no longer an unbiased estimate")
                  + (f"; {extra}" if extra else "")),
            *([_fact("tested model", escape(_tested_kind(s.model)), escape(describe_fit(s.model)))]
              if isinstance(s.model, dict) else []),
            _fact(f"validation {metric}", escape(val_mean + val_se), _validated_as(s, n_init) + baseline_text),
            _fact("restarts needed", f"{escape(r95_text)} for 95%", escape(luck)),
            _size_fact(params, flops, s.model),
            _fact("training time", escape(seconds_text(s.train_time)), "all restarts of this config"),
            _fact("latency", f"{escape(ms_text(lat.get('batch_1')))} <span class=\"detail\">batch 1</span>",
                  f"{escape(ms_text(lat.get('batch_1024')))} at batch 1024"),
            _fact("throughput", f"{escape(si_text(throughput))} rows/s" if throughput else "n/a", "at batch 1024"),
        ]
    )
    explanation = s.explanation or "The run does not record why this config was chosen."
    rule = s.rule
    rule_html = f'<p class="rule">rule: <code>{escape(rule)}</code></p>' if rule else ""
    if isinstance(s.paired, dict):
        from justenough.select import describe_paired

        paired_by = "Paired by row and restart" if s.paired.get("n_rows") else "Paired restarts"
        rule_html = (f'<p class="paired">{paired_by}: {escape(describe_paired(s.paired, str(label), percent))}.</p>'
                     + rule_html)
    rule_html += "".join(f'<p class="notice">note: {escape(n)}</p>' for n in s.notices or [])
    return (
        f'<div class="answer-head"><h3>{title}</h3><p class="arch"><code>{escape(arch)}</code>'
        f'{" · " + escape(", ".join(settings)) if settings else ""}</p></div>'
        f'<div class="answer-grid"><div class="drawing">{svg}</div><dl class="facts">{facts}</dl></div>'
        f'<div class="why"><h3>Why this one</h3><p>{escape(explanation)}</p>{rule_html}</div>'
        + _leaderboard(run, percent)
        + _recipe(run)
    )


def _recipe(run: RunFiles) -> str:
    """Every setting the chosen config was trained with, and what the search tried (``run/recipe_table.py``)."""
    from justenough.run.recipe_table import recipe_rows

    body = "".join(f"<tr><td>{escape(r.setting)}</td><td>{escape(r.chosen)}</td><td>{escape(r.tried)}</td></tr>"
                   for r in recipe_rows(run.leaderboard, run.summary_fields))
    caption = "Recipe: every setting the chosen config was trained with, and the values tried where configs differed"
    return (f'<div class="table-box"><table class="recipe"><caption>{escape(caption)}</caption>'
            f"<thead><tr><th>setting</th><th>chosen</th><th>tried</th></tr></thead><tbody>{body}</tbody></table></div>")


def _leaderboard(run: RunFiles, percent: bool) -> str:
    board = run.leaderboard
    labels = figures.config_labels(board)  # already escaped
    chosen_key = str(run.summary_fields.chosen["key"])
    # leaderboard.csv is written best first (select.best_first), the printed table's order.
    ranked = board.assign(_rank=range(1, len(board) + 1))
    top = ranked.head(LEADERBOARD_ROWS)
    if not (top["key"] == chosen_key).any():
        top = pd.concat([top, ranked[ranked["key"] == chosen_key]])
    ensembles = judged_as_ensembles(top)  # the score is each config's ensemble's, the restarts' spread beside it
    # Judged by ensembles, two lines (the column stays narrow): the ensemble's score, the restarts' under it.
    score_head = "val ensemble<br>" + escape("restarts' mean ± std") if ensembles else "val mean ± std"
    head = "<tr><th class=rank>#</th><th>config</th><th>depth</th><th>widths</th><th class=num>params</th>" \
           f"<th class=num>{score_head}</th><th class=num>restarts</th><th class=num>p_good</th>" \
           "<th class=num>train time</th><th class=num>lr</th><th class=num>epochs run</th><th>stopped by</th></tr>"
    body = []
    for _, r in top.iterrows():
        is_chosen = r["key"] == chosen_key
        n = number_text(r.get("n_restarts"))
        nd = finite_or_none(r.get("n_diverged"))
        div = f' <span class="diverged">({int(nd)} diverged)</span>' if nd else ""
        std = finite_or_none(r.get("val_std"))
        std_text = "" if std is None else f" ± {score_text(std, percent)}"
        score_cell = escape(score_text(r["val_mean"], percent) + std_text)
        if ensembles:
            restarts_text = escape(score_text(r.get("val_mean_restarts"), percent) + std_text)
            score_cell = f'{escape(score_text(r["val_mean"], percent))}<br><span class="restarts">{restarts_text}</span>'
        mark = ' <span class="badge">chosen</span>' if is_chosen else ""
        flag = r.get("training_flag")
        if isinstance(flag, str) and flag:  # training_recipe.py: every restart ran out of epochs, or stopped at once
            mark += f' <span class="flag">{escape(flag)}</span>'
        epochs = finite_or_none(r.get("epochs_run"))
        stopped = r.get("stopped_by")
        body.append(
            f'<tr{" class=chosen" if is_chosen else ""}><td class=rank>{int(r["_rank"])}</td>'
            f'<td>{labels[str(r["key"])]}{mark}</td><td>{escape(r.get("depth"))}</td><td>{escape(widths_text(r.get("widths")))}</td>'
            f'<td class=num>{escape(number_text(r.get("params")))}</td>'
            f'<td class=num>{score_cell}</td>'
            f'<td class=num>{escape(n)}{div}</td><td class=num>{escape(number_text(r.get("p_good"), 2))}</td>'
            f'<td class=num>{escape(seconds_text(r.get("train_time")))}</td>'
            f'<td class=num>{escape(lr_text(r.get("lr"), r.get("schedule"), r.get("label_smoothing")))}</td>'
            f'<td class=num>{"" if epochs is None else f"{epochs:.0f}"}</td>'
            f'<td>{escape(stopped) if isinstance(stopped, str) else ""}</td></tr>'
        )
    more = len(board) - len(top)
    caption = (f"Leaderboard: the top {min(LEADERBOARD_ROWS, len(board))} of {counted(len(board), 'config')} "
               + ("by their ensembles' validation score" if ensembles else "by mean validation score"))
    if more > 0:
        caption += f" ({more} more in leaderboard.csv)"
    return (
        f'<div class="table-box"><table class="leaderboard"><caption>{escape(caption)}</caption>'
        f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _complexity(run: RunFiles, figs: EmbeddedFigures, percent: bool, metric: str) -> str:
    fig = figures.complexity_figure(run.leaderboard, str(run.summary_fields.chosen["key"]), percent=percent, metric=metric,
                                    baseline=run.summary_fields.baseline)
    if run.summary_fields.judged_by == "ensembles":
        points = ("Each point is a config: the validation score of its ensemble (the mean of its restarts, the "
                  "model the search returns), with that score's standard error (rows and restarts) as error bars. ")
        band = ("The shaded band spans one standard error below the best score; the rule itself compares each "
                "config with the best row by row, within the rows' band of their paired difference (below). ")
    else:
        points = ("Each point is a config: its mean validation score over restarts, with the spread "
                  "(± one standard deviation) as error bars. ")
        band = ("The shaded band spans one standard error below the best mean; configs inside it are "
                "statistically as good as the best. ")
    return (
        f'<p class="lead">{points}The dotted line is the Pareto front: the best score reachable with at most '
        f"that many parameters. {band}The dashed line, when it is near enough to show, is what no network "
        "scores (the majority class, or the training mean).</p>"
        + figs.div("complexity", fig)
    )


def _heatmap(run: RunFiles, figs: EmbeddedFigures, percent: bool, metric: str) -> str:
    board = run.leaderboard
    growth = run.summary_fields.growth
    untried = [(n.depth, n.width) for n in (growth.not_needed if growth else ()) if n.depth is not None and n.width is not None]
    try:
        fig = figures.heatmap_figure(board, str(run.summary_fields.chosen["key"]), percent=percent, metric=metric, untried=untried)
    except (ValueError, TypeError) as exc:
        return note_html(f"The widths in leaderboard.csv could not be read ({exc}).")
    first = [(run.config_widths[str(k)] or (0,))[0] for k in board["key"]]
    dup = board.assign(_w=first).duplicated(["depth", "_w"]).any()
    text = (
        "Mean validation score by depth (rows) and width (columns). For funnel or mixed widths the "
        "first hidden layer's width is used."
    )
    if dup:
        text += " Where several configs share a cell (other settings differ), the cell shows the best of them."
    if untried:
        text += " Grey cells were not needed: the grow strategy stopped before them."
    body = f'<p class="lead">{escape(text)} The chosen config is outlined.</p>' + figs.div("heatmap", fig)
    if growth is not None and growth.path:
        body += _growth(run, figs, growth, percent, metric)
    return body


# The growth path's heading: a part of the depth x width section, with a link of its own in the
# page's nav (page.nav_links) when the run grew.
GROWTH_ANCHOR = "growth"


def _growth(run: RunFiles, figs: EmbeddedFigures, growth: Growth, percent: bool, metric: str) -> str:
    """The grow strategy's path (``summary.growth``): the configs in the order tried, and where it stopped."""
    fig = figures.growth_figure(growth.path, run.leaderboard, str(run.summary_fields.chosen["key"]), percent=percent, metric=metric)
    text = ("The growth path: configs in the order the grow strategy tried them, with mean and SE; blue steps beat "
            "the best so far by more than one SE of the paired difference, crosses mark the steps that stopped growth.")
    return (f'<h3 id="{GROWTH_ANCHOR}">Growth path</h3><p class="lead">{escape(text)}</p><p>{escape(growth.explanation)}</p>'
            + figs.div("growth", fig))


def _restarts(run: RunFiles, figs: EmbeddedFigures, percent: bool, metric: str) -> str:
    if run.results is None or run.results.empty:
        return note_html("Per-restart results were not recorded (results.csv is missing), so the spread cannot be shown.")
    fig = figures.restarts_figure(run.results, run.leaderboard, str(run.summary_fields.chosen["key"]), percent=percent, metric=metric)
    res = run.results
    n_div = int(res["diverged"].sum()) if "diverged" in res else 0  # booleans (run.files)
    text = (
        "Every restart of every config, configs ordered by size. Restarts differ only in their random "
        "start and data order, so the spread within a column is luck."
    )
    if n_div:
        text += f" {n_div} restart{'s' if n_div != 1 else ''} diverged (marked ✕ at the bottom)."
    out = f'<p class="lead">{escape(text)}</p>' + figs.div("restarts", fig)
    paired = run.summary_fields.paired
    key = str(run.summary_fields.chosen["key"])
    keys = set(res["key"])
    if isinstance(paired, dict) and key in keys and str(paired.get("other_key")) in keys:  # both in results.csv
        pfig = figures.paired_figure(res, run.leaderboard, key, str(paired["other_key"]), percent=percent, metric=metric)
        if pfig.data:
            out += (
                f'<h3>Paired restarts: the choice and the {escape(str(paired.get("relation", "rival")))}</h3>'
                '<p class="lead">Restart k of every config starts from seed stream k, so each line joins two '
                "restarts that shared their luck (pink where the choice scored at least as well). The slopes "
                f"are the paired differences; their mean and standard error: {escape(_paired_numbers(paired, percent))}.</p>"
                + figs.div("paired", pfig)
            )
    return out


def _paired_numbers(paired: dict[str, Any], percent: bool) -> str:
    from justenough.select import format_difference

    mean, se = float(paired.get("mean_diff", math.nan)), float(paired.get("se_diff", math.nan))
    return f"{format_difference(mean, se, percent)} over {paired.get('n', '?')} pairs (the choice minus the rival)"


def _diverged_restarts(run: RunFiles, key: str) -> set[int]:
    res = run.results
    if res is None or "diverged" not in res:
        return set()
    mine = res[(res["key"] == key) & res["diverged"]]
    return {int(r) for r in mine["restart"]}


def _curves(run: RunFiles, figs: EmbeddedFigures, percent: bool, metric: str) -> str:
    key = str(run.summary_fields.chosen["key"])
    if run.history is None:
        return note_html("Learning curves were not recorded (history.csv is missing).")
    if not (run.history["key"].astype(str) == key).any():
        return note_html("Learning curves were not recorded for the chosen config (no rows for it in history.csv).")
    fig = figures.curves_figure(run.history, key, percent=percent, metric=metric, diverged=_diverged_restarts(run, key))
    return (
        '<p class="lead">The chosen config\'s restarts, epoch by epoch: training loss (dashed) and '
        "validation loss (solid) on the left, validation score on the right.</p>" + figs.div("curves", fig)
    )


def _diagnostics(run: RunFiles, figs: EmbeddedFigures) -> str:
    key = str(run.summary_fields.chosen["key"])
    if run.summary_fields.chosen.get("depth") == 0:
        return note_html("The chosen config has no hidden layer (a linear model): it has no units whose symmetry, "
                     "death or signal through the depth there would be to diagnose.")
    if run.diagnostics is None:
        return note_html("Diagnostics were not recorded (diagnostics.csv is missing).")
    table = figures.diagnostics_by_layer(run.diagnostics, key)
    if table.empty:
        return note_html("Diagnostics were not recorded for the chosen config (no rows for it in diagnostics.csv).")
    chosen = run.summary_fields.chosen
    widths = _widths(run, chosen)
    fig = figures.diagnostics_figure(run.diagnostics, key, widths)
    stages = set(table["stage"])
    when = "at initialization (epoch 0) and at the last recorded epoch" if "start" in stages else "at the last recorded epoch"
    rows = []
    for layer in sorted(table["layer"].unique()):
        # Layers are 1-based hidden layers (diagnostics.csv).
        cells = [f"<td>{int(layer)}</td>", f"<td class=num>{escape(widths[int(layer) - 1] if 1 <= int(layer) <= len(widths) else '?')}</td>"]
        for col, fmt in (("effective_width", 1), ("dead_fraction", 0), ("act_std", 2), ("grad_norm", 2), ("max_cosine", 2)):
            vals = []
            for stage in ("start", "end"):
                part = table[(table["stage"] == stage) & (table["layer"] == layer)]
                if len(part) and col in part:
                    v = finite_or_none(part.iloc[0][col])
                    vals.append("n/a" if v is None else (f"{100 * v:.0f}%" if col == "dead_fraction" else f"{v:.{fmt}f}"))
            cells.append(f"<td class=num>{escape(' → '.join(vals))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = ("<tr><th>layer</th><th class=num>width</th><th class=num>effective width</th><th class=num>dead units</th>"
            "<th class=num>activation std</th><th class=num>gradient norm</th><th class=num>max |cos| between units</th></tr>")
    return (
        f'<p class="lead">{escape("Per hidden layer of the chosen config, " + when + ", averaged over its restarts.")} '
        "Effective width counts how many directions the layer's activations really use; far below the "
        "width means units that act alike (symmetry not broken). Dead units never activate. An activation "
        "spread that shrinks or explodes from layer to layer means the signal does not survive the depth.</p>"
        + _sampled_note(run.diagnostics, key, widths)
        + figs.div("diagnostics", fig)
        + f'<div class="table-box"><table><caption>{escape("epoch 0 → last epoch, mean over restarts" if "start" in stages else "last epoch, mean over restarts")}</caption><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _sampled_note(diag: pd.DataFrame, key: str, widths: list[int]) -> str:
    """Which layers' symmetry was estimated from a sample of units (diagnose.MAX_UNITS), if any."""
    if "symmetry_units" not in diag:
        return ""
    mine = diag[(diag["key"].astype(str) == str(key))]
    sampled = pd.to_numeric(mine["symmetry_units"], errors="coerce")
    mine = mine[sampled.notna()]
    if mine.empty:
        return ""
    parts = []
    for layer, rows in mine.groupby("layer"):
        units = int(pd.to_numeric(rows["symmetry_units"]).max())
        width = widths[int(layer) - 1] if 1 <= int(layer) <= len(widths) else None
        of = f" of {width:,}" if width is not None else ""
        parts.append(f"layer {int(layer)}: effective width estimated from {units:,}{of} units")
    return note_html("; ".join(parts) + " (a sample drawn from the study seed: comparing every pair of units "
                 "of so wide a layer would need memory that grows with the width squared).")
