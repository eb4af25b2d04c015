"""Symmetry and signal diagnostics for every model of a stack, and the init lab.

- ``measures``: every diagnostic of a stack on one batch (``diagnose``, ``COLUMNS``) and the
  forward-signal measures (activations, dead units, gradient norms);
- ``symmetry``: effective width and cosine similarity of a layer's units (sampled above
  ``MAX_UNITS`` units);
- ``layers``: the stack seen layer by layer (``LayerView``);
- ``recorder``: ``DiagnosticsRecorder``, the trainer's hook that records them during training,
  and ``diagnostics_bytes``, what that costs in memory;
- ``lab``: ``init_lab``, one architecture trained from every initialization scheme
  (``lab_figures`` and ``lab_page`` draw it). Import it from ``justenough.diagnose.lab`` (or
  ``justenough.init_lab``): it loads plotly, which training does not need.
"""

from __future__ import annotations

from justenough.diagnose.layers import LayerView, stack_layers
from justenough.diagnose.measures import COLUMNS, EXPLODING, VANISHING, dead_fractions, diagnose
from justenough.diagnose.recorder import DiagnosticsRecorder, diagnostics_bytes
from justenough.diagnose.symmetry import MAX_UNITS, cosine_stats, effective_widths

__all__ = [
    "COLUMNS",
    "VANISHING",
    "EXPLODING",
    "LayerView",
    "DiagnosticsRecorder",
    "diagnose",
    "effective_widths",
    "cosine_stats",
    "dead_fractions",
    "stack_layers",
    "MAX_UNITS",
    "diagnostics_bytes",
]
