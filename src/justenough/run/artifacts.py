"""Saving and loading a model as safetensors plus JSON, and exporting it (no pickle anywhere).

A saved model is a directory ``RUN/model/`` with two files:

- ``weights.safetensors``: the state dict of a plain ``torch.nn.Sequential`` of Linear and
  activation modules (``0.weight [w1, n_in]``, ``0.bias [w1]``, ``2.weight``, ...). safetensors
  holds raw tensors only, so loading it never runs code from the file (invariant 6, docs/architecture.md).
- ``model.json``: the format version, the architecture (``n_in``, ``widths``, ``n_out``,
  ``activation``, and for an ensemble of restarts ``ensemble: {"members": k, "task": ...}``), the sha256 and size of the weights file, and ``meta`` (the search fills it with
  the preprocessing and target-encoder JSON, task, classes, metrics and versions).

The directory is written under a temporary name and renamed into place (``atomic.atomic_dir``),
so a crash never leaves half a model. Loading checks the hash, so a tampered or truncated file
raises ``ArtifactError`` instead of loading wrong weights.

The module layout is fixed: ``Linear, act, Linear, act, ..., Linear``, with an activation module
after every hidden layer (``nn.Identity`` for ``identity``), so parameter names are ``2*l.weight``.
An ensemble of restarts (``nets/ensemble.RestartEnsemble``, ``search(ensemble=True)``) holds k such
networks of one architecture: its names are ``members.i.2*l.weight``. A model saved without an
ensemble has no ``ensemble`` key and loads as the plain network it always was.
A model with the periodic embedding (``nets/periodic.py``) has a ``PeriodicEmbedding`` first
(``0.frequencies``, ``0.phases`` ``[n_in, K]``; the Linear layers at ``1 + 2*l``) and
``"embed": "periodic"`` in its architecture; one without has no ``embed`` key, as before.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import torch
from torch import nn

from justenough.run.atomic import atomic_dir, publish_mode, write_bytes
from justenough.errors import ArtifactError
from justenough.nets.activations import ACTIVATION_MODULES
from justenough.network_size import PERIODIC_FREQUENCIES, first_layer_inputs
from justenough.nets.ensemble import RestartEnsemble
from justenough.nets.periodic import PeriodicEmbedding
from justenough.nets.stack import plain_mlp
from justenough.vocab import Activation, Embed, Task
from justenough.display_numbers import json_ready
from justenough.run.files import MODEL_DIR, MODEL_FILE, WEIGHTS_FILE

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LoadedModel",
    "architecture_of",
    "build_module",
    "build_network",
    "save_model",
    "load_model",
    "export_onnx",
    "export_torchscript",
    "export_safetensors",
]

FORMAT = "justenough-model"
FORMAT_VERSION = 1
# The module class of each activation name (nets/activations.py), read back into its name.
_NAME_OF_MODULE = {cls: name for name, cls in ACTIVATION_MODULES.items()}


# ----------------------------------------------------------------------------------------------
# Architecture
# ----------------------------------------------------------------------------------------------


def _check_architecture(arch: Any, where: str = "the architecture") -> dict[str, Any]:
    """Validated ``{"n_in": int, "widths": [int, ...], "n_out": int, "activation": str}``."""
    if not isinstance(arch, Mapping):
        raise ArtifactError(f"{where} must be an object with n_in, widths, n_out, activation; got {type(arch).__name__}")
    missing = [k for k in ("n_in", "widths", "n_out", "activation") if k not in arch]
    if missing:
        raise ArtifactError(f"{where} lacks {', '.join(missing)}: it needs n_in, widths, n_out and activation")

    def positive_int(v: Any, what: str) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < 1:
            raise ArtifactError(f"{where}: {what} must be a positive integer, got {v!r}")
        return int(v)

    widths = arch["widths"]
    if not isinstance(widths, (list, tuple)):
        raise ArtifactError(f"{where}: widths must be a list of positive integers, got {widths!r}")
    activation = arch["activation"]
    if activation not in ACTIVATION_MODULES:
        raise ArtifactError(f"{where}: unknown activation {activation!r}; known: {', '.join(ACTIVATION_MODULES)}")
    embed = arch.get("embed", Embed.NONE)
    if embed not in tuple(Embed):
        raise ArtifactError(f"{where}: unknown embed {embed!r}; known: {', '.join(Embed)}")
    checked: dict[str, Any] = {
        "n_in": positive_int(arch["n_in"], "n_in"),
        "widths": [positive_int(w, "each width") for w in widths],
        "n_out": positive_int(arch["n_out"], "n_out"),
        "activation": str(activation),
    }
    if embed != Embed.NONE:  # only then: a plain model's architecture keeps the keys it always had
        checked["embed"] = str(embed)
    ensemble = arch.get("ensemble")
    if ensemble is not None:  # k networks of this architecture and their mean (nets/ensemble.py)
        if not isinstance(ensemble, Mapping) or ensemble.get("task") not in tuple(Task):
            raise ArtifactError(f"{where}: ensemble must be an object with members (a positive integer) and task "
                                f"({' or '.join(Task)}), got {ensemble!r}")
        checked["ensemble"] = {"members": positive_int(ensemble.get("members"), "ensemble members"),
                               "task": str(ensemble["task"])}
    return checked


def build_module(architecture: Mapping[str, Any]) -> nn.Sequential:
    """``Linear(n_in, w1), act, Linear(w1, w2), act, ..., Linear(wL, n_out)`` as a Sequential
    (``nets.stack.plain_mlp``), once the architecture is checked (``ArtifactError`` if not).

    With ``"embed": "periodic"``, a ``PeriodicEmbedding`` comes first and the first Linear reads its
    ``n_in (1 + K)`` outputs. The weights are torch's defaults; load a state dict to give it trained ones.
    """
    arch = _check_architecture(architecture)
    if "ensemble" in arch:
        raise ArtifactError("the architecture is an ensemble of networks: build it with build_network")
    embed = arch.get("embed", Embed.NONE)
    net = plain_mlp([first_layer_inputs(arch["n_in"], embed), *arch["widths"], arch["n_out"]], arch["activation"])
    if embed == Embed.PERIODIC:
        net = nn.Sequential(PeriodicEmbedding(arch["n_in"]), *net)
    return net


def build_network(architecture: Mapping[str, Any]) -> nn.Module:
    """``build_module``'s network, or, for an architecture with ``ensemble: {"members": k, "task"}``,
    a ``RestartEnsemble`` of k such networks (``ArtifactError`` if the architecture is not valid)."""
    arch = _check_architecture(architecture)
    ensemble = arch.pop("ensemble", None)
    if ensemble is None:
        return build_module(arch)
    return RestartEnsemble([build_module(arch) for _ in range(ensemble["members"])], ensemble["task"])


def architecture_of(module: nn.Module, activation: str | None = None) -> dict[str, Any]:
    """Read ``n_in, widths, n_out, activation`` from a Sequential of Linear and activation modules.

    ``activation`` names the activation when the module cannot say (identity layers left out);
    when both are known they must agree. A ``RestartEnsemble``: its members' architecture (they
    must share one) with ``ensemble: {"members": k, "task": ...}``.
    """
    if isinstance(module, RestartEnsemble):
        archs = [architecture_of(m, activation) for m in module.members]
        if any(a != archs[0] for a in archs):
            raise ArtifactError("the ensemble's networks differ in architecture: its members must share one")
        return {**archs[0], "ensemble": {"members": module.k, "task": str(module.task)}}
    if not isinstance(module, nn.Sequential):
        raise ArtifactError(f"expected a torch.nn.Sequential of Linear and activation modules, got {type(module).__name__}")
    emb = module[0] if len(module) and isinstance(module[0], PeriodicEmbedding) else None
    layers = list(module)[1:] if emb is not None else list(module)
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    acts = []
    for m in layers:
        if isinstance(m, nn.Linear):
            continue
        name = _NAME_OF_MODULE.get(type(m))
        if name is None:
            raise ArtifactError(
                f"cannot save a module holding {type(m).__name__}: only Linear and the activations "
                f"{', '.join(ACTIVATION_MODULES)} are supported"
            )
        if name == Activation.LEAKY_RELU and getattr(m, "negative_slope", 0.01) != 0.01:
            raise ArtifactError(f"LeakyReLU with negative_slope={m.negative_slope} is not supported (0.01 only)")
        acts.append(name)
    if not linears:
        raise ArtifactError("the module holds no Linear layer")
    if emb is not None and (emb.n_frequencies != PERIODIC_FREQUENCIES or linears[0].in_features != first_layer_inputs(emb.n_in, Embed.PERIODIC)):
        raise ArtifactError(
            f"the PeriodicEmbedding ({emb.n_in} inputs, {emb.n_frequencies} frequencies) does not fit: a saved model "
            f"has {PERIODIC_FREQUENCIES} frequencies per input and a first Linear layer reading all {emb.n_in * (1 + emb.n_frequencies)} outputs"
        )
    if any(lin.bias is None for lin in linears):
        raise ArtifactError("every Linear layer needs a bias (bias=True)")
    for a, b in zip(linears[:-1], linears[1:]):
        if a.out_features != b.in_features:
            raise ArtifactError(f"Linear layers do not chain: {a.out_features} outputs feed {b.in_features} inputs")
    names = set(acts)
    if len(names) > 1:
        raise ArtifactError(f"the module mixes activations ({', '.join(sorted(names))}); one activation per model")
    found = names.pop() if names else None
    if activation is not None and found is not None and activation != found:
        raise ArtifactError(f"activation {activation!r} was given but the module uses {found!r}")
    name = activation or found or "identity"
    if name not in ACTIVATION_MODULES:
        raise ArtifactError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATION_MODULES)}")
    arch = {
        "n_in": int(linears[0].in_features) if emb is None else int(emb.n_in),
        "widths": [int(lin.out_features) for lin in linears[:-1]],
        "n_out": int(linears[-1].out_features),
        "activation": name,
    }
    if emb is not None:
        arch["embed"] = str(Embed.PERIODIC)
    return arch


def _canonical_state(module: nn.Module, arch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The weights in the canonical layout's names (``0.weight``, ``2.weight``, ...; behind a periodic
    embedding ``0.frequencies``, ``0.phases``, ``1.weight``, ``3.weight``, ...; an ensemble's
    ``members.i.`` before each), CPU float32, contiguous."""
    if isinstance(module, RestartEnsemble):
        return {f"members.{i}.{name}": t for i, m in enumerate(module.members)
                for name, t in _canonical_state(m, arch).items()}
    linears = [m for m in module.children() if isinstance(m, nn.Linear)]  # a Sequential's, in order
    cpu = lambda t: t.detach().to("cpu", torch.float32).contiguous().clone()  # noqa: E731
    state: dict[str, torch.Tensor] = {}
    first = 0
    if arch.get("embed", Embed.NONE) == Embed.PERIODIC:
        emb = next(iter(module.children()))  # the PeriodicEmbedding, first
        state["0.frequencies"], state["0.phases"] = cpu(emb.frequencies), cpu(emb.phases)  # [n_in, K] each
        first = 1
    for i, lin in enumerate(linears):
        idx = first + 2 * i  # Linear, act, Linear, act, ...: the l-th Linear sits at index 2l (after the embedding)
        state[f"{idx}.weight"] = cpu(lin.weight)  # [out, in]
        state[f"{idx}.bias"] = cpu(lin.bias)  # [out]
    return state


# ----------------------------------------------------------------------------------------------
# Save and load
# ----------------------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(
    directory: str | Path,
    module: nn.Module,
    *,
    activation: str,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``directory/model/`` (``weights.safetensors`` + ``model.json``) atomically; return that path.

    ``meta`` must be JSON-ready (non-finite floats are written as null). The weights file's
    sha256 and size go into ``model.json`` and are checked on load.
    """
    from safetensors.torch import save as st_save

    arch = architecture_of(module, activation)
    state = _canonical_state(module, arch)
    weights = st_save(state, metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION)})
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": arch,
        "weights": {"file": WEIGHTS_FILE, "sha256": _sha256(weights), "bytes": len(weights)},
        "meta": dict(meta or {}),
    }
    try:
        text = json.dumps(json_ready(doc), indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"the model metadata is not JSON-ready ({exc}); convert it to plain lists, numbers and strings") from exc
    target = Path(directory) / MODEL_DIR
    with atomic_dir(target) as tmp:
        (tmp / WEIGHTS_FILE).write_bytes(weights)
        (tmp / MODEL_FILE).write_text(text + "\n", encoding="utf-8")
    return target


@dataclass
class LoadedModel:
    """A model read back from disk: a plain ``nn.Sequential`` (or a ``RestartEnsemble`` of them)
    in eval mode plus its JSON.

    ``meta`` is what ``save_model`` was given (for a search: preprocessing, target encoder, task,
    classes, metrics, versions); higher layers rebuild their objects from it.
    """

    module: nn.Module
    architecture: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def n_in(self) -> int:
        return int(self.architecture["n_in"])

    @property
    def n_out(self) -> int:
        return int(self.architecture["n_out"])


def _model_dir(path: Path) -> Path:
    """Accept a run directory (holding model/) or the model directory itself."""
    if (path / MODEL_DIR / MODEL_FILE).exists() or ((path / MODEL_DIR).is_dir() and not (path / MODEL_FILE).exists()):
        return path / MODEL_DIR
    return path


def load_model(directory: str | Path) -> LoadedModel:
    """Load ``directory`` (a model directory, or a run directory holding ``model/``).

    Raises ``ArtifactError`` for a missing directory or file, bad JSON, an unknown format version,
    a weights file whose size or sha256 differs from ``model.json`` (truncated or tampered), or
    tensors that do not fit the architecture. Never unpickles anything.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    root = Path(directory)
    if not root.exists():
        raise ArtifactError(f"no model at {root}: the path does not exist (a run directory holds model/)")
    mdir = _model_dir(root)
    doc_path, weights_path = mdir / MODEL_FILE, mdir / WEIGHTS_FILE
    if not doc_path.is_file():
        raise ArtifactError(f"{doc_path} is missing: {mdir} is not a saved model (re-run the search or copy the whole model/ folder)")
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{doc_path} is not valid JSON ({exc}); the file is damaged, save the model again") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ArtifactError(f"{doc_path} is not a justenough model file (format {doc.get('format') if isinstance(doc, dict) else None!r})")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{doc_path} has format version {version!r}, but this justenough reads version {FORMAT_VERSION}; "
            "load it with the justenough version that wrote it, or re-run the search"
        )
    arch = _check_architecture(doc.get("architecture"), f"{doc_path}: architecture")
    info = doc.get("weights")
    if not isinstance(info, dict) or not isinstance(info.get("sha256"), str):
        raise ArtifactError(f"{doc_path} lacks the weights' sha256: the file is damaged, save the model again")
    if not weights_path.is_file():
        raise ArtifactError(f"{weights_path} is missing: copy the whole model/ folder, or re-run the search")
    data = weights_path.read_bytes()
    expected_size = info.get("bytes")
    if isinstance(expected_size, int) and len(data) != expected_size:
        raise ArtifactError(
            f"{weights_path} is truncated or altered: {len(data):,} bytes instead of {expected_size:,}; "
            "copy it again or re-run the search"
        )
    if _sha256(data) != info["sha256"]:
        raise ArtifactError(
            f"{weights_path} does not match the sha256 in {doc_path.name}: the weights were altered or damaged; "
            "copy them again or re-run the search"
        )
    try:
        state = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ArtifactError(f"{weights_path} cannot be read as safetensors ({exc}); re-run the search") from None
    module = build_network(arch)
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        raise ArtifactError(
            f"{weights_path} holds tensors {sorted(got.items())} but the architecture in {doc_path.name} "
            f"needs {sorted(expected.items())}; the two files are from different models"
        )
    module.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
    module.eval()
    meta = doc.get("meta") or {}
    if not isinstance(meta, dict):
        raise ArtifactError(f"{doc_path}: meta must be an object, got {type(meta).__name__}")
    return LoadedModel(module=module, architecture=arch, meta=meta, path=mdir)


# ----------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[Path]:
    """A temporary file name next to ``path``, renamed to ``path`` on success, removed on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        publish_mode(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Raise a library logger to ERROR for the duration of the block."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _plain_cpu(module: nn.Module) -> nn.Module:
    """A CPU float32 copy in eval mode in the canonical layout (a network, or an ensemble of
    them): exports never touch the caller's module."""
    arch = architecture_of(module)
    copy = build_network(arch)
    copy.load_state_dict(_canonical_state(module, arch))
    return copy.eval()


def _exportable(module: nn.Module, n_in: int) -> nn.Module:
    """A CPU float32 eval copy to export: a plain network in the canonical layout, or a
    ``RawInputNetwork`` around one. Checks that it takes ``n_in`` inputs."""
    from justenough.nets.export import RawInputNetwork

    if isinstance(module, RawInputNetwork):
        model: nn.Module = copy.deepcopy(module).cpu().float()
        model.network = _plain_cpu(module.network)  # type: ignore[arg-type]
        if module.scaling is not None:  # robust or quantile: float64 by design (nets/raw_scaling.py), kept so
            model.scaling = copy.deepcopy(module.scaling).cpu()
        takes = module.n_in
    elif isinstance(module, (nn.Sequential, RestartEnsemble)):
        model = _plain_cpu(module)
        takes = architecture_of(model)["n_in"]
    else:
        raise ArtifactError(f"cannot export a {type(module).__name__}: give the model's network (model.module)")
    if takes != n_in:
        raise ArtifactError(f"the module takes {takes} features, not n_in={n_in}")
    return model.eval()


def export_onnx(module: nn.Module, n_in: int, path: str | Path, *, opset: int | None = None) -> Path:
    """Export to ONNX with a dynamic batch axis: input ``input [batch, n_in]``, output ``output [batch, n_out]``.

    ``module`` is the network (``nn.Sequential``, preprocessed features in) or a
    ``RawInputNetwork`` (raw numeric columns in). Uses torch's exporter (``torch.export``-based,
    which needs ``onnxscript``: the ``onnx`` extra). Written atomically.
    """
    path = Path(path)
    model = _exportable(module, n_in)
    example = (torch.zeros(2, n_in),)
    try:
        import onnxscript  # noqa: F401  (the exporter needs it; fail with a clear message)
    except ImportError:
        raise ArtifactError("ONNX export needs onnx and onnxscript: pip install 'justenough[onnx]'") from None
    with _temp_beside(path) as tmp, warnings.catch_warnings(), _quiet_logger("torch.onnx"):
        # torch's exporter warns about its own internals (deprecated pytree helpers, torchvision
        # ops it cannot register); not ours to fix, and not the user's business.
        warnings.simplefilter("ignore")
        kwargs: dict[str, Any] = {"dynamic_shapes": ({0: torch.export.Dim("batch", min=1)},)}
        if opset is not None:
            kwargs["opset_version"] = opset
        try:
            program = torch.onnx.export(
                model, example, input_names=["input"], output_names=["output"], dynamo=True, verbose=False, **kwargs
            )
        except Exception as exc:
            raise ArtifactError(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc
        if program is None:  # the dynamo exporter always returns a program; be explicit for readers
            raise ArtifactError("ONNX export produced no program")
        program.save(str(tmp), external_data=False)
    return path


def export_torchscript(module: nn.Module, n_in: int, path: str | Path) -> Path:
    """Export as TorchScript (traced), loadable with ``torch.jit.load`` without justenough. Atomic.

    ``module``: the network, or a ``RawInputNetwork`` (as for ``export_onnx``)."""
    path = Path(path)
    model = _exportable(module, n_in)
    with _temp_beside(path) as tmp, warnings.catch_warnings():
        # torch 2.13 marks torch.jit as deprecated; it is still what C++/LibTorch users load.
        warnings.simplefilter("ignore")
        with torch.no_grad():
            traced = torch.jit.trace(model, torch.zeros(2, n_in))
        traced.save(str(tmp))
    return path


def export_safetensors(module: nn.Module, path: str | Path, *, activation: str | None = None) -> Path:
    """The weights alone as one safetensors file, with the architecture JSON in its metadata. Atomic."""
    from safetensors.torch import save as st_save

    arch = architecture_of(module, activation)
    data = st_save(
        _canonical_state(module, arch),
        metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION), "architecture": json.dumps(arch)},
    )
    return write_bytes(Path(path), data)
