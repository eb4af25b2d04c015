"""The networks: the activation table, the init schemes, the stack of MLPs and the raw-input export.

``activations.py``: the one activation table (function, module, derivative, default init, gain).
``init.py``: the initialization schemes' registry. ``stack.py``: ``MLPStack``, M MLPs as stacked
tensors. ``periodic.py``: the periodic numeric embedding (``PeriodicEmbedding``). ``export.py``: ``RawInputNetwork``, a network with its fitted preprocessing as torch ops.
"""

from justenough.nets.activations import ACTIVATIONS, ActivationParts, activation_module, activation_name
from justenough.nets.export import RawInputNetwork, raw_input_columns
from justenough.nets.stack import MemberSpec, MLPStack

__all__ = [
    "ACTIVATIONS",
    "ActivationParts",
    "activation_module",
    "activation_name",
    "MemberSpec",
    "MLPStack",
    "RawInputNetwork",
    "raw_input_columns",
]
