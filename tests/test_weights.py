"""Reading weights files safely, and the messages a user sees when a file is wrong."""

from __future__ import annotations

import argparse
import io
import pickle
import typing

import pytest
import torch
from safetensors.torch import save_file
from weights_payloads import CreatesFile, Evaluates, GetsAttribute, LightningConfig, Opens

from models import WeightsError, load_model
from models.weights import Placeholder, RestrictedUnpickler, find_state_dict, read_weights


def test_safetensors_and_torch_files_read_back_the_same_tensors(tmp_path):
    sd = {"a.weight": torch.randn(3, 4), "b.bias": torch.arange(5)}
    save_file(sd, tmp_path / "w.safetensors")
    torch.save(sd, tmp_path / "w.pth")
    torch.save({"state_dict": sd}, tmp_path / "legacy.pth.tar", _use_new_zipfile_serialization=False)
    for name in ("w.safetensors", "w.pth", "legacy.pth.tar"):
        got = find_state_dict(read_weights(tmp_path / name), name)
        assert set(got) == set(sd) and all(torch.equal(got[k], sd[k]) for k in sd), name


def test_old_rfdetr_checkpoint_with_namespace_args_loads(tmp_path):
    ckpt = {"model": {"w": torch.ones(2)}, "args": argparse.Namespace(num_classes=3, lr=1e-4), "epoch": 4}
    torch.save(ckpt, tmp_path / "checkpoint.pth")
    got = read_weights(tmp_path / "checkpoint.pth")
    assert got["args"].num_classes == 3 and torch.equal(got["model"]["w"], torch.ones(2))


@pytest.mark.parametrize("legacy", [False, True])
def test_malicious_pickle_is_refused_without_running(tmp_path, legacy):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.ones(1)}, "x": CreatesFile(str(target))}, path,
               _use_new_zipfile_serialization=not legacy)
    with pytest.raises(WeightsError) as err:
        read_weights(path)
    assert str(path) in str(err.value) and "refused" in str(err.value) and "system" in str(err.value)
    assert not target.exists()


def test_malicious_lightning_checkpoint_is_refused_without_running(tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.ones(1)}, "hyper_parameters": {"x": CreatesFile(str(target))}}, path)
    with pytest.raises(WeightsError, match="refused"):
        read_weights(path)
    assert not target.exists()


def test_lightning_hyper_parameters_are_not_unpickled(tmp_path):
    target = tmp_path / "side_effect"
    path = tmp_path / "epoch=3.ckpt"
    sd = {"network.model.w": torch.randn(2, 2)}
    torch.save({"state_dict": sd, "epoch": 3, "pytorch-lightning_version": "2.1.0",
                "hyper_parameters": {"config": LightningConfig(str(target)), "lr": 0.01}}, path)
    as_pth = path.with_suffix(".pth")
    as_pth.write_bytes(path.read_bytes())
    with pytest.raises(WeightsError, match="holds Python objects .*LightningConfig|touch"):
        read_weights(as_pth)  # a plain torch file with such objects is refused ...
    got = read_weights(path)  # ... a Lightning checkpoint gives its state_dict, the rest inert
    assert torch.equal(got["state_dict"]["network.model.w"], sd["network.model.w"])
    assert isinstance(got["hyper_parameters"]["config"], Placeholder)
    assert got["hyper_parameters"]["lr"] == 0.01
    assert not target.exists()


@pytest.mark.shared_data
def test_truncated_file_gets_a_clear_error(shared_data):
    path = shared_data / "negative" / "resnet18_truncated.pth"
    with pytest.raises(WeightsError) as err:
        load_model("oasis-resnet18", weights=path, device="cpu")
    assert str(path) in str(err.value) and "truncated" in str(err.value)


def test_empty_missing_and_non_weights_files(tmp_path):
    (tmp_path / "empty.safetensors").write_bytes(b"")
    (tmp_path / "empty.pth").write_bytes(b"")
    for name in ("empty.safetensors", "empty.pth"):
        with pytest.raises(WeightsError, match=rf"{name} is empty \(0 bytes\)"):
            read_weights(tmp_path / name)
    with pytest.raises(WeightsError, match="weights file not found: .*nope.pth"):
        load_model("chexnet", weights=tmp_path / "nope.pth")
    (tmp_path / "notes.pth").write_text("these are my notes, not a model")
    with pytest.raises(WeightsError, match="notes.pth is not a weights file"):
        read_weights(tmp_path / "notes.pth")
    (tmp_path / "cut.safetensors").write_bytes(b"\x40\x00\x00\x00\x00\x00\x00\x00{\"a\": {\"dtype\"")
    with pytest.raises(WeightsError, match="cut.safetensors: the safetensors file is truncated or corrupt"):
        read_weights(tmp_path / "cut.safetensors")


def test_preset_without_its_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path))
    with pytest.raises(WeightsError) as err:
        load_model("chexnet", device="cpu")
    msg = str(err.value)
    assert "model.pth.tar" in msg and str(tmp_path) in msg and "arnoweng/CheXNet" in msg


def _globals_in(pickled: bytes) -> set[str]:
    """Every global a pickle names, read through Loupe's restricted unpickler (which runs nothing)."""
    seen: set[str] = set()

    class Recorder(RestrictedUnpickler):
        def find_class(self, module, name):
            seen.add(f"{module}.{name}")
            return super().find_class(module, name)

    Recorder(io.BytesIO(pickled)).load()
    return seen


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize("suffix", [".pth", ".bin", ".ckpt"])
def test_raw_pickle_with_os_system_is_called_code_and_refused(tmp_path, protocol, suffix):
    """Issue 14: a bare pickle (not torch.save) holding os.system was called "truncated or corrupt"."""
    target = tmp_path / "pwned"
    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps(CreatesFile(str(target)), protocol=protocol))
    with pytest.raises(WeightsError) as err:
        read_weights(path)
    msg = str(err.value)
    assert str(path) in msg and "refused" in msg and "system" in msg and "Python code" in msg
    assert "truncated" not in msg and "corrupt" not in msg
    assert not target.exists()


@pytest.mark.parametrize("payload", [Opens, Evaluates, GetsAttribute])
def test_lightning_checkpoint_naming_an_executing_builtin_is_refused(tmp_path, payload):
    target = tmp_path / "ran"
    path = tmp_path / "evil.ckpt"
    obj = payload() if payload is GetsAttribute else payload(str(target))
    torch.save({"state_dict": {"w": torch.ones(1)}, "hyper_parameters": {"cfg": obj}}, path)
    with pytest.raises(WeightsError, match=r"refused to load .*evil\.ckpt.*(io\.open|builtins\.eval|builtins\.getattr)"):
        read_weights(path)
    assert not target.exists()


def test_lightning_checkpoint_with_harmless_builtins_and_omegaconf_loads(tmp_path):
    """What the authors' effdet .ckpt holds (MODELS.md section 2): hyper_parameters pickling
    builtins.dict/list/int/tuple, Ellipsis, typing.Any, _operator.getitem and omegaconf classes. The old
    reader refused every builtins.* global as possibly malicious."""
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.create({"model": {"name": "tf_efficientdet_lite3", "num_classes": 7},
                                      "sizes": [512, 512], "lr": 2e-4})
    hp = {"config": cfg, "types": [dict, list, int, tuple, Ellipsis, typing.Any],
          "annotation": typing.Dict[str, typing.Tuple[int, ...]]}  # noqa: UP006 (pickles via _operator.getitem)
    sd = {"network.model.w": torch.randn(3, 2), "network.anchors.boxes": torch.randn(5, 4)}
    path = tmp_path / "epoch=30.ckpt"
    torch.save({"epoch": 30, "global_step": 900, "pytorch-lightning_version": "1.9.5", "state_dict": sd,
                "hyper_parameters": hp}, path)
    names = _globals_in(pickle.dumps(hp, protocol=4))  # (torch.save writes protocol 2: __builtin__.dict)
    for want in ("builtins.dict", "builtins.list", "builtins.int", "builtins.tuple", "builtins.Ellipsis",
                 "typing.Any", "_operator.getitem"):
        assert want in names, want
    assert any(n.startswith("omegaconf.") for n in names)
    got = read_weights(path)
    assert set(got["state_dict"]) == set(sd)
    assert all(torch.equal(got["state_dict"][k], v) for k, v in sd.items())
    assert got["epoch"] == 30 and got["global_step"] == 900
    assert isinstance(got["hyper_parameters"]["config"], Placeholder)
    assert "omegaconf" in repr(got["hyper_parameters"]["config"])
    stand_ins = got["hyper_parameters"]["types"]  # the classes themselves, as inert stand-ins
    assert [t.qualname for t in stand_ins] == ["builtins.dict", "builtins.list", "builtins.int", "builtins.tuple",
                                               "builtins.Ellipsis", "typing.Any"]
    assert all(issubclass(t, Placeholder) for t in stand_ins)
