"""The vocabulary: StrEnums that read and write as their text, the activation names, and the one device parser."""

from __future__ import annotations

import json

import pytest
import torch

from justenough.errors import ConfigError
from justenough.nets.activations import ACTIVATIONS, activation_module
from justenough.vocab import (
    SAMPLER_ALIASES,
    Activation,
    ExecutorKind,
    Monitor,
    NumericScaling,
    Optimizer,
    Precision,
    Sampler,
    Schedule,
    StopReason,
    Strategy,
    Task,
    parse_activation,
    parse_choice,
    parse_device,
)


# --- the enums ----------------------------------------------------------------------------------


@pytest.mark.parametrize("enum", [Task, Monitor, Optimizer, Precision, NumericScaling, Schedule, StopReason, Activation, Sampler, Strategy,
                                  ExecutorKind])
def test_each_member_is_its_text_in_comparisons_json_and_formatting(enum: type) -> None:
    for member in enum:
        assert member == member.value and str(member) == member.value and f"{member}" == member.value
        assert json.dumps({"x": member}) == json.dumps({"x": member.value})


@pytest.mark.parametrize(("vocabulary", "text", "expected"), [
    (Sampler, " TPE ", Sampler.TPE), (Sampler, "nsga-ii", Sampler.NSGA2), (Sampler, "nsgaii", Sampler.NSGA2),
    (Strategy, "Grow", Strategy.GROW), (ExecutorKind, "ray", ExecutorKind.RAY),
])
def test_parse_choice_reads_any_case_and_the_aliases(vocabulary: type, text: str, expected: object) -> None:
    assert parse_choice(vocabulary, text, "x", SAMPLER_ALIASES if vocabulary is Sampler else None) is expected


def test_parse_choice_refuses_an_unknown_name_listing_the_members() -> None:
    with pytest.raises(ConfigError, match=r"unknown sampler 'magic': use auto, grid, random, tpe or nsga2"):
        parse_choice(Sampler, "magic", "sampler", SAMPLER_ALIASES)
    with pytest.raises(ConfigError, match=r"unknown executor 'slurm': use local or ray"):
        parse_choice(ExecutorKind, "slurm", "executor")


def test_the_activation_table_has_one_row_per_activation() -> None:
    assert list(ACTIVATIONS) == list(Activation)


@pytest.mark.parametrize(
    "name, expected",
    [("relu", "relu"), (" ReLU ", "relu"), ("logistic", "sigmoid"), ("linear", "identity"), ("none", "identity"),
     ("leakyrelu", "leaky_relu"), ("leaky-relu", "leaky_relu"), ("swish", None)],
)
def test_parse_activation_reads_names_and_aliases(name: str, expected: str | None) -> None:
    assert parse_activation(name) == expected


def test_activation_module_follows_the_aliases_and_refuses_unknown_names() -> None:
    assert isinstance(activation_module("logistic"), torch.nn.Sigmoid)
    with pytest.raises(ConfigError, match="unknown activation 'swish': use one of relu, tanh"):
        activation_module("swish")


# --- parse_device -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["cpu", "CPU", " cpu ", torch.device("cpu")])
def test_cpu_in_any_spelling_is_the_cpu(text: object) -> None:
    assert parse_device(text) == torch.device("cpu")


def test_auto_is_cuda_when_available_else_cpu() -> None:
    assert parse_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("text", ["mps", "tpu", "gpu", "cuda:x", "", "meta"])
def test_devices_justenough_does_not_train_on_are_refused_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(ConfigError, match=f"device {text!r} is not a device justenough trains on: use cpu, cuda, cuda:N or auto"):
        parse_device(text)
    with pytest.raises(ConfigError, match=f"--device {text} is not a device"):
        parse_device(text, flag="--device")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch without CUDA (the refusal)")
@pytest.mark.parametrize("text", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_without_cuda_is_refused_in_the_words_of_the_caller(text: str) -> None:
    with pytest.raises(ConfigError, match=rf"device '{text}' was asked for but CUDA is not available here .*use 'cpu' or 'auto'"):
        parse_device(text)
    with pytest.raises(ConfigError, match=rf"--device {text}: CUDA is not available here .*use --device cpu or --device auto"):
        parse_device(text, flag="--device")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_and_a_gpu_index_past_the_last_one() -> None:
    assert parse_device("cuda").type == "cuda"
    count = torch.cuda.device_count()
    with pytest.raises(ConfigError, match=f"there are {count} CUDA GPUs"):
        parse_device(f"cuda:{count}")
