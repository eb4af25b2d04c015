"""Checks before anything is created (Python API): a device this torch cannot use, an ``out`` that
is a file, a network that cannot fit the memory budget. Each refusal leaves nothing behind. And a
stack that does not fit is split by the trainer, with the diagnostics' memory counted."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import torch

from justenough import search
from justenough.data import load, prepare
from justenough.diagnose import DiagnosticsRecorder, diagnostics_bytes
from justenough.errors import ConfigError
from justenough.engine.preflight import MemoryBudgetError, check_memory, format_bytes, parse_bytes
from justenough.space.search_space import Space
from justenough.nets.stack import MemberSpec, MLPStack
from justenough.train import TrainSettings, member_bytes, train

TINY = dict(depth="1", widths="8", max_epochs=4, patience=None)


@pytest.fixture(scope="module")
def iris():
    return prepare(load("iris"), seed=0)


def _nothing_in(folder: Path, *keep: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(keep)


# --- the device ---------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch without CUDA (the refusal)")
def test_cuda_without_cuda_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"device 'cuda' was asked for but CUDA is not available here .*use 'cpu' or 'auto'"):
        search("iris", space=Space.from_options(**TINY), n_init=2, out=tmp_path / "run", device="cuda", workers=1)
    _nothing_in(tmp_path)


def test_auto_is_resolved_once_by_the_settings_and_the_search_reads_no_device_again(tmp_path: Path, monkeypatch) -> None:
    import justenough.vocab as vocab
    from justenough.settings import SearchSettings

    resolved = "cuda" if torch.cuda.is_available() else "cpu"
    settings = SearchSettings(space=Space.from_options(**TINY), device="auto")
    assert settings.device == resolved and settings.torch_device == torch.device(resolved)
    calls: list[object] = []
    parse = vocab.parse_device

    def counted(device: object, **kw: object) -> torch.device:
        calls.append(device)
        return parse(device, **kw)

    monkeypatch.setattr(vocab, "parse_device", counted)
    result = search("iris", space=Space.from_options(**TINY), n_init=2, out=tmp_path / "run", device="auto", workers=1,
                    report=False, memory_budget=None)
    assert calls == ["auto"]  # read once, by the settings: not again by the memory budget, the tasks or finalize
    assert result.test_score > 0


# --- the run directory --------------------------------------------------------------------------


def test_an_out_that_is_a_file_is_refused_with_its_path(tmp_path: Path) -> None:
    target = tmp_path / "results.txt"
    target.write_text("mine\n")
    with pytest.raises(ConfigError) as info:
        search("iris", space=Space.from_options(**TINY), n_init=2, out=target, workers=1)
    message = str(info.value)
    assert message.startswith(f"out {str(target)!r} is an existing file, not a folder")
    assert ".tmp" not in message and "study.db" not in message
    assert target.read_text() == "mine\n"
    _nothing_in(tmp_path, "results.txt")
    with pytest.raises(ConfigError, match=re.escape(f"lies under {str(target)!r}, which is a file")):
        search("iris", space=Space.from_options(**TINY), n_init=2, out=target / "run", workers=1)
    _nothing_in(tmp_path, "results.txt")


# --- memory ---------------------------------------------------------------------------------------


def test_parse_bytes() -> None:
    assert parse_bytes("2GB") == 2 * 10**9
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("1.5g") == 1_500_000_000
    assert parse_bytes(" 300 kb ") == 300_000
    assert parse_bytes(1e9) == 10**9 and parse_bytes("4096") == 4096
    for bad in ("lots", "2XB", "0", "-1GB", True):
        with pytest.raises(ConfigError, match="memory size"):
            parse_bytes(bad)
    assert format_bytes(21.6e9) == "21.6 GB" and format_bytes(5e6) == "5 MB"


def test_a_network_that_cannot_fit_is_refused_before_anything_is_created(tmp_path: Path, iris) -> None:
    space = Space.from_options(depth="1", widths="8,5000", max_epochs=4, embed="none")
    with pytest.raises(MemoryBudgetError) as info:
        search("iris", space=space, n_init=2, out=tmp_path / "run", memory_budget="5MB", workers=1)
    err = info.value
    assert isinstance(err, ConfigError)
    largest = err.largest
    assert largest is not None and 8 < largest < 5000
    message = str(err)
    assert message.startswith("one 1x5000 network needs about ")
    assert f"more than the memory budget of 5 MB: the largest width that fits at depth 1 is {largest:,}" in message
    assert f"widths=up to {largest}" in message and "memory_budget=" in message
    assert "--widths" in err.cli_message and "--memory-budget" in err.cli_message
    _nothing_in(tmp_path)
    # The width it names fits, one more does not (the same estimate the trainer splits by).
    kwargs = dict(n_features=iris.n_features, n_outputs=iris.n_outputs, n_val=int(iris.X_val.shape[0]), budget=5 * 10**6, diagnose=True)
    need = check_memory(Space.from_options(depth="1", widths=str(largest), embed="none"), **kwargs)
    assert need <= 5 * 10**6
    sizes = [iris.n_features, largest, iris.n_outputs]
    assert need == member_bytes(sizes, 64, "adam", int(iris.X_val.shape[0])) + diagnostics_bytes(sizes)
    with pytest.raises(MemoryBudgetError):
        check_memory(Space.from_options(depth="1", widths=str(largest + 1), embed="none"), **kwargs)
    # Without diagnostics a member needs less, so a wider layer fits.
    with pytest.raises(MemoryBudgetError) as without:
        check_memory(space, **{**kwargs, "diagnose": False})
    assert without.value.largest is not None and without.value.largest > largest


def test_the_largest_network_is_the_deepest_widest_and_biggest_batch(iris) -> None:
    # 40 inputs: the default embed "auto" trains none (the embedding's own count is the test below).
    kwargs = dict(n_features=40, n_outputs=3, n_val=30, diagnose=False, budget=10**12)
    need = check_memory(Space.from_options(depth="1-3", widths="8,64", batch_size="16,256", optimizer="sgd,adam"), **kwargs)
    assert need == member_bytes([40, 64, 64, 64, 3], 256, "adam", 30)
    funnel = check_memory(Space.from_options(depth="3", widths="64", shape="funnel"), **kwargs)
    assert funnel == member_bytes([40, 64, 32, 16, 3], 64, "adam", 30)
    ranged = check_memory(Space.from_options(depth="1..2", widths="8..100", optimizer="sgd"), **kwargs)
    assert ranged == member_bytes([40, 100, 100, 3], 64, "sgd", 30)


def test_the_issue_s_width_fits_a_modest_budget_now() -> None:
    # --widths 20000 on digits took 24 GB in the diagnostics' [M, n, n] matrices; the estimate of
    # one member, diagnostics included, is now well under 1 GB.
    space = Space.from_options(depth="1", widths="20000")
    need = check_memory(space, n_features=61, n_outputs=10, n_val=360, budget=10**9, diagnose=True)
    assert need < 10**9
    assert diagnostics_bytes([61, 20000, 10], max_units=20000) > 10 * 10**9  # what comparing every pair would take


class _Data:
    def __init__(self, n_in: int, n_out: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.X_train, self.X_val = torch.randn(200, n_in, generator=g), torch.randn(50, n_in, generator=g)
        self.y_train, self.y_val = torch.randint(0, n_out, (200,), generator=g), torch.randint(0, n_out, (50,), generator=g)
        self.task, self.n_outputs = "classification", n_out


def test_trainer_splits_by_the_diagnostics_memory_and_refuses_a_member_that_cannot_fit() -> None:
    data = _Data(6, 3)
    specs = [MemberSpec(widths=(40,), init="he_normal", seed=k) for k in range(6)]
    settings = TrainSettings(max_epochs=3, patience=None, callback_every=1, batch_size=32)
    per = member_bytes([6, 40, 3], 32, "adam", 50)
    recorder = DiagnosticsRecorder(data.X_val, every=1)
    extra = recorder.member_bytes([6, 40, 3])
    assert extra == diagnostics_bytes([6, 40, 3], rows=50)
    budget = 2 * (per + extra)
    plain = train(MLPStack(6, 3, specs), data, settings, memory_budget=budget)
    counted = train(MLPStack(6, 3, specs), data, settings, memory_budget=budget, callback=recorder, callback_bytes=extra)
    assert counted.n_substacks == 3  # two members a sub-stack once the diagnostics count
    assert plain.n_substacks == math.ceil(6 / (budget // per)) < 3
    for a, b in zip(plain.members, counted.members):  # splitting changes no number
        assert a.history == b.history
    stack = MLPStack(6, 3, specs)
    before = [w.clone() for w in stack.weights]
    with pytest.raises(ConfigError, match=r"one member of layer sizes \[6, 40, 3\] needs about .* more than the memory budget"):
        train(stack, data, settings, memory_budget=per + extra - 1, callback=recorder, callback_bytes=extra)
    assert all(torch.equal(a, b) for a, b in zip(before, stack.weights))  # nothing trained


def test_a_search_whose_stacks_are_split_gives_the_same_results(tmp_path: Path, iris) -> None:
    # Widths 8 and 16 share one padded stack (search.PACK_WIDTH) of 2 configs x 3 restarts, 16
    # units wide; the recorder measures the 30 validation rows. A budget of three such members
    # makes the trainer split the stack of six into two sub-stacks of three.
    space = Space.from_options(depth="1", widths="8,16", max_epochs=5, patience=None, embed="none")
    n_val = int(iris.X_val.shape[0])
    sizes = [iris.n_features, 16, iris.n_outputs]
    per = member_bytes(sizes, 64, "adam", n_val) + diagnostics_bytes(sizes, rows=min(n_val, 256))
    budget = 3 * per
    assert check_memory(space, n_features=iris.n_features, n_outputs=iris.n_outputs, n_val=n_val, budget=budget, diagnose=True) <= budget
    whole = search("iris", space=space, n_init=3, workers=1, diagnose_every=2, report=False)
    split = search("iris", space=space, n_init=3, workers=1, diagnose_every=2, report=False, memory_budget=budget)
    cols = ["key", "restart", "val_score", "val_loss", "best_epoch"]
    pd.testing.assert_frame_equal(whole.restarts[cols].sort_values(cols[:2]).reset_index(drop=True),
                                  split.restarts[cols].sort_values(cols[:2]).reset_index(drop=True))


def test_a_linear_model_that_cannot_fit_is_named_linear() -> None:
    with pytest.raises(MemoryBudgetError) as info:
        check_memory(Space.from_options(depth="0"), n_features=100_000, n_outputs=10, n_val=100, budget=10**6, diagnose=True)
    assert str(info.value).startswith("one linear network needs about ")
    assert info.value.largest is None and "with no hidden layer to narrow, use a smaller batch_size" in str(info.value)
    assert "--batch-size" in info.value.cli_message


def test_memory_check_counts_the_periodic_embeddings_wider_first_layer() -> None:
    from justenough.network_size import embedding_parameter_count, first_layer_inputs

    kwargs = dict(n_features=50, n_outputs=3, n_val=100, budget=10**12, diagnose=False)
    plain = check_memory(Space.from_options(depth="1", widths="64"), **kwargs)
    both = check_memory(Space.from_options(depth="1", widths="64", embed="none,periodic"), **kwargs)
    assert plain == member_bytes([50, 64, 3], 64, "adam", 100)
    embedding = embedding_parameter_count(50, "periodic")  # 2 x 50 x 8 frequencies and phases
    assert both == member_bytes([first_layer_inputs(50, "periodic"), 64, 3], 64, "adam", 100, embedding) > plain
    # The embedding adds its parameters' copies and, per training row, the cosines' argument and its gradient.
    wider = member_bytes([first_layer_inputs(50, "periodic"), 64, 3], 64, "adam", 100)
    assert both - wider == 4 * (10 * embedding + 64 * embedding)
    # embed "auto" (the default) before the space is resolved: what the inputs make of it.
    assert plain == check_memory(Space.from_options(depth="1", widths="64", embed="none"), **kwargs)  # 50 inputs: none
    few = {**kwargs, "n_features": 5}
    assert check_memory(Space.from_options(depth="1", widths="64"), **few) == check_memory(
        Space.from_options(depth="1", widths="64", embed="none,periodic"), **few) > check_memory(
        Space.from_options(depth="1", widths="64", embed="none"), **few)
