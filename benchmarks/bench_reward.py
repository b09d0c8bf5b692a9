"""The search-feedback reward inside a GRPO step: its time per step, the whole step's time, its share
(target <= 10 %), and reward throughput with a cold and a warm cache.

    python benchmarks/bench_reward.py [--steps 3] [--model smollm2|tiny] [--queries 64]

Throughput: ``--queries`` training queries x 8 completions each (realistic texts built from the
catalogue: de-branded titles of the query's search results, the query's own words, junk, a brand,
a promotional word, malformed output), scored in GRPO-sized batches of 8; then the same again (warm).
Step time: a short real GRPO run (leser_bench/conf/train/grpo.yaml defaults, ``--steps`` steps) on the embedded
world, reward seconds from the reward's own log, step seconds between on_step_begin/on_step_end.
Writes benchmarks/results/reward.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from leser_bench.config import CONF_DIR  # noqa: E402
from leser_bench.data.world import WorldConfig, generate_world  # noqa: E402
from leser_bench.llm.config import ModelConfig  # noqa: E402
from leser_bench.policy.prompting import search_context  # noqa: E402
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index  # noqa: E402
from leser_bench.policy.rules import RulesConfig  # noqa: E402
from leser_bench.training.data import TrainingSetup, prompt_config  # noqa: E402
from leser_bench.training.grpo import GRPOSettings, train_grpo  # noqa: E402
from leser_bench.training.tiny import build_tiny_model, smollm2_tokenizer_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def context_aware_policy() -> tuple[dict, str]:
    """(prompt config, answer prefix) of the context-aware method as Hydra composes it (the method YAML
    includes them from the shared policy group, so they are not in the method file itself)."""
    from hydra import compose, initialize_config_dir  # noqa: PLC0415
    from omegaconf import OmegaConf  # noqa: PLC0415

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        method = OmegaConf.to_container(compose("config", ["suite=none", "method=context_aware"]).method, resolve=True)
    return method["prompt"], str(method.get("answer_prefix") or "")


def completions_for(setup: TrainingSetup, n_queries: int, rng: random.Random) -> list[tuple[str, str]]:
    queries = setup.train.queries[:n_queries]
    context = search_context(setup.retriever, queries, 5, setup.dataset.product_index())
    out = []
    for q in queries:
        titles = [" ".join(w for w in p.title.replace(",", " ").split() if w not in p.brand.split())
                  for p in context[q.id]] or ["something"]
        brand = context[q.id][0].brand if context[q.id] else "Acme"
        texts = [json.dumps(titles[:3]), json.dumps(titles[1:4]), json.dumps([q.text]),
                 json.dumps([f"{brand} {titles[0]}", "cheap " + titles[-1]]), "Sure: " + ", ".join(titles[:2]),
                 json.dumps([" ".join(rng.sample(titles[0].split(), k=min(2, len(titles[0].split()))))]),
                 '["first rewrite", "second rewrite"]', ""]
        out += [(q.id, t) for t in texts]
    return out


def throughput(setup: TrainingSetup, settings: GRPOSettings, n_queries: int) -> dict[str, float]:
    reward = setup.reward(settings.reward)
    reward.raw_value(setup.train.queries[0].id)  # the raw-query reference run, once (not per batch)
    pairs = completions_for(setup, n_queries, random.Random(0))
    batches = [pairs[i : i + 8] for i in range(0, len(pairs), 8)]
    result = {}
    for label in ("cold", "warm"):
        started = time.perf_counter()
        for batch in batches:
            reward._last_batch = None  # every batch is new to the scorer; only its caches may help
            reward.score([qid for qid, _ in batch], [text for _, text in batch])
        seconds = time.perf_counter() - started
        result[f"{label}_completions_per_s"] = len(pairs) / seconds
        result[f"{label}_seconds_per_batch_of_8"] = seconds / len(batches)
    result["searches_sent"] = reward.stats["searched"]
    result["search_calls"] = reward.stats["search_calls"]
    result["completions"] = len(pairs) * 2
    return result


def step_timing(setup: TrainingSetup, settings: GRPOSettings, steps: int, out: Path) -> dict[str, float]:
    """Means over the steps, and medians (the first step also runs the raw-query reference search once)."""
    import pandas as pd  # noqa: PLC0415

    values = {**settings.describe(), "max_steps": steps, "save_steps": 10_000}
    run = train_grpo(setup, GRPOSettings.from_dict(values), out)
    curves = pd.read_csv(out / "curves.csv")
    medians = {"reward_seconds_median": float(curves["reward_seconds"].median()),
               "step_seconds_median": float(curves["step_seconds"].median())}
    medians["reward_share_median"] = medians["reward_seconds_median"] / medians["step_seconds_median"]
    return {**run.summary, **medians, "train_seconds": run.seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--model", choices=["smollm2", "tiny"], default="smollm2")
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is faster on shared cores)")
    args = parser.parse_args()

    cache = Path(os.environ.get("LESER_BENCH_CACHE", REPO / ".cache" / "leser_bench"))
    dataset = generate_world(WorldConfig())
    retriever = Retriever(build_index(dataset.products, IndexConfig(), cache), RetrieverConfig())
    rules = RulesConfig.from_dict(yaml.safe_load((CONF_DIR / "rules" / "default.yaml").read_text()))
    train_cfg = yaml.safe_load((CONF_DIR / "train" / "grpo.yaml").read_text())
    train_cfg.update(seed=13, torch_threads=args.threads)
    settings = GRPOSettings.from_dict(train_cfg)
    with tempfile.TemporaryDirectory() as tmp:
        if args.model == "tiny":
            model = ModelConfig(path=str(build_tiny_model(Path(tmp) / "tiny", smollm2_tokenizer_dir(cache))),
                                gguf_package=None, offline=True, cache_dir=str(cache))
        else:
            model = ModelConfig(cache_dir=str(cache), offline=True)
        prompt, prefix = context_aware_policy()
        setup = TrainingSetup(dataset, retriever, prompt_config(prompt), rules, model, relevant_grade=3,
                              answer_prefix=prefix)
        tp = throughput(setup, settings, args.queries)
        steps = step_timing(setup, settings, args.steps, Path(tmp) / "grpo")
    share = steps.get("reward_share", float("nan"))
    print(f"reward per GRPO step      {steps.get('reward_seconds_mean', float('nan')):8.3f} s mean, "
          f"{steps['reward_seconds_median']:.3f} s median (step 1 also runs the raw-query reference once)")
    print(f"whole GRPO step           {steps['step_seconds_mean']:8.2f} s mean   ({args.model}, "
          f"{settings.per_device_train_batch_size} completions of <= {settings.max_completion_length} tokens)")
    print(f"reward share of a step    {100 * share:8.2f} % mean, {100 * steps['reward_share_median']:.2f} % median "
          f"(target <= 10 %)  {'OK' if share <= 0.10 else 'OVER'}")
    print(f"reward throughput cold    {tp['cold_completions_per_s']:8.0f} completions/s "
          f"({1000 * tp['cold_seconds_per_batch_of_8']:.1f} ms per batch of 8)")
    print(f"reward throughput warm    {tp['warm_completions_per_s']:8.0f} completions/s "
          f"({1000 * tp['warm_seconds_per_batch_of_8']:.1f} ms per batch of 8)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"model": args.model, "steps": args.steps, "threads": args.threads, "machine": platform.machine(),
              "cpus": os.cpu_count(), "step": steps, "throughput": tp, "target_reward_share": 0.10}
    (RESULTS / "reward.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {RESULTS / 'reward.json'}")


if __name__ == "__main__":
    main()
