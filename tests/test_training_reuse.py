"""Which earlier training a run may reuse or resume: only its own, and none with cache.reuse=false.

Found while refreshing the regression check: outside Hydra, a training's output directory is named by
the method's settings, not the training key, so a training with other settings (there: the model group's
generation cache) resumed from the checkpoints another training had left in the same directory.
"""

from __future__ import annotations

from pathlib import Path

from leser_bench.training.registry import register_trained, trained_or_resumed


def fake_final(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "config.json").write_text("{}")
    (directory / "model.safetensors").write_bytes(b"weights")
    return directory


def test_checkpoints_of_another_training_are_removed_not_resumed(tmp_path: Path) -> None:
    out = tmp_path / "training" / "leser"
    stale = out / "checkpoints" / "checkpoint-4"
    stale.mkdir(parents=True)
    (stale / "trainer_state.json").write_text("{}")
    calls: list[Path | None] = []

    def train(resume: Path | None) -> Path:
        calls.append(resume)
        return fake_final(out / "final")

    trained_or_resumed(tmp_path / "cache", "key-b", out, train)
    assert calls == [None]
    assert not stale.exists()


def test_no_reuse_trains_again_even_when_an_identical_training_is_registered(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    earlier = fake_final(tmp_path / "earlier" / "final")
    register_trained(cache, "key-a", earlier)
    calls: list[Path | None] = []

    def train(resume: Path | None) -> Path:
        calls.append(resume)
        return fake_final(tmp_path / "now" / "final")

    assert trained_or_resumed(cache, "key-a", tmp_path / "earlier", train) == earlier  # reused: no call
    assert calls == []
    assert trained_or_resumed(cache, "key-a", tmp_path / "now", train, reuse=False) == tmp_path / "now" / "final"
    assert calls == [None]


def test_editing_the_code_changes_the_training_key(tmp_path: Path, monkeypatch) -> None:
    """issue 14: training keys hashed settings and data, not the code: an edited trainer reused an old model."""
    from types import SimpleNamespace

    from leser_bench.io import artefacts
    from leser_bench.llm import ModelConfig
    from leser_bench.training.registry import training_key

    package = tmp_path / "leser_bench"
    package.mkdir()
    (package / "grpo.py").write_text("STEP = 1\n")
    monkeypatch.setattr(artefacts, "source_roots", lambda: [package])
    settings = SimpleNamespace(describe=lambda: {"max_steps": 4, "torch_threads": 2})
    setup = SimpleNamespace(fingerprint=lambda: {"queries": ["q1"]},
                            model=ModelConfig(path=str(tmp_path / "model"), gguf_package=None))

    def key() -> str:
        artefacts.source_hash.cache_clear()
        return training_key("grpo", settings, setup)

    before = key()
    assert key() == before
    (package / "grpo.py").write_text("STEP = 2\n")
    assert key() != before


def _train_in_process(cache: str, out: str, log: str) -> str:
    """One job: train key-c (a training that takes a second) unless an identical one is registered."""
    import time

    def train(resume: Path | None) -> Path:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{out}\n")
        time.sleep(1.0)
        return fake_final(Path(out) / "final")

    return str(trained_or_resumed(Path(cache), "key-c", Path(out), train))


def test_two_jobs_on_one_cache_train_once_and_share_the_model(tmp_path: Path) -> None:
    """issue 17: two jobs started together on one cache both succeed; the second waits for the first's
    training (a lock per training key) and reuses it instead of training the same model again."""
    import multiprocessing

    log = tmp_path / "trainings.log"
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        finals = pool.starmap(_train_in_process, [(str(tmp_path / "cache"), str(tmp_path / f"job{n}"), str(log))
                                                  for n in (1, 2)])
    trained = log.read_text(encoding="utf-8").split()
    assert len(trained) == 1  # one training, not two
    assert finals[0] == finals[1] == str(Path(trained[0]) / "final")
