"""A small run directory whose catalogue, queries and model output are hostile (for the report tests).

Built with the pipeline's own pieces (ir-measures evaluation, expansion measures, TREC writers, the
analyze command for statistics and A/B simulation, and the pipeline's report hook), on a hand-made
data set of 16 queries and 60 products. No JVM: runs are generated with a seeded RNG so that one
method is clearly better than the baseline.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd

from leser_bench.abtest import ABTestConfig
from leser_bench.analyze import analyze
from leser_bench.io.cache import atomic_write_text
from leser_bench.data.records import Dataset, GainMapping, Product, Query, Split
from leser_bench.evaluation import aggregate, evaluate, resolve_all
from leser_bench.evaluation.expansion_metrics import CoverageConfig, cost_metrics, coverage, rule_metrics
from leser_bench.expansion import Expansion
from leser_bench.pipeline import expansion_record
from leser_bench.report.build import write_reports
from leser_bench.report.markdown import ReportData
from leser_bench.stats import StatsConfig
from leser_bench.io.trec import write_qrels, write_run

SCRIPT = "<script>alert('pwned')</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ 7*7 }}"
LOOP = "{% for i in range(3) %}loop{% endfor %}"
HOSTILE = (SCRIPT, IMG, TEMPLATE, LOOP)
MEASURES = ["nDCG@10", "R@20", "P@5"]


def hostile(i: int) -> str:
    return HOSTILE[i % len(HOSTILE)]


def make_dataset(n_queries: int = 16, n_products: int = 60) -> Dataset:
    products = [Product(id=f"P{i:03d}", title=f"product {i} {hostile(i)}", brand=f"brand {hostile(i + 1)}",
                        product_type=f"type{i % 5}") for i in range(n_products)]
    rng = random.Random(7)
    queries = [Query(id=f"q{i:02d}", text=f"query {i} {hostile(i + 2)}") for i in range(n_queries)]
    qrels = {q.id: {p.id: rng.choice([0, 1, 2, 3]) for p in rng.sample(products, 12)} for q in queries}
    return Dataset(name=f"hostile {SCRIPT}", products=products, splits={"test": Split("test", queries, qrels)},
                   gains=GainMapping.esci(), generated=True, description=f"Hostile fixture {IMG} {TEMPLATE}")


def make_runs(dataset: Dataset) -> dict[str, dict[str, dict[str, float]]]:
    """identity: random order; prf: relevant items pushed up a little; llm: pushed up a lot."""
    rng = random.Random(11)
    split = dataset.split("test")
    runs: dict[str, dict[str, dict[str, float]]] = {"identity": {}, "prf": {}, "llm": {}}
    for q in split.queries:
        pool = rng.sample([p.id for p in dataset.products], 40)
        for method, boost in (("identity", 0.0), ("prf", 0.4), ("llm", 1.5)):
            runs[method][q.id] = {pid: rng.random() + boost * split.qrels[q.id].get(pid, 0) / 3 for pid in pool}
    return runs


def make_expansions(dataset: Dataset) -> dict[str, list[Expansion]]:
    queries = dataset.split("test").queries
    return {
        "identity": [Expansion(query=q) for q in queries],
        "prf": [Expansion(query=q, term_weights={f"term{i}": 0.5, hostile(i): 0.25}) for i, q in enumerate(queries)],
        "llm": [Expansion(query=q, texts=[f"rewrite {hostile(i)}", f"more {hostile(i + 1)}"],
                          raw_output=f"<think>{hostile(i + 3)}</think>", generated_tokens=20 + i, seconds=0.1,
                          violations={"no_brand_<b>": 1} if i % 4 == 0 else {}) for i, q in enumerate(queries)],
    }


def build_run_dir(out: Path, training: bool = True, with_info: bool = True) -> Path:
    """Write a complete run directory (runs, qrels, per-query CSVs, stats, A/B, reports) into ``out``."""
    dataset = make_dataset()
    split = dataset.split("test")
    runs, expansions = make_runs(dataset), make_expansions(dataset)
    measures, _ = resolve_all(MEASURES, dataset.gains, 3, 40)
    write_qrels(split.qrels, out / "qrels.trec")
    cov = CoverageConfig(k=20, relevant_grade=3, facet="product_type")
    facets = {p.id: p.product_type for p in dataset.products}
    frames, exp_frames = [], []
    for name, run in runs.items():
        write_run(run, out / "runs" / f"{name}.trec", tag=name)
        lines = [json.dumps(expansion_record(e), ensure_ascii=False) for e in expansions[name]]
        atomic_write_text(out / "expansions" / f"{name}.jsonl", "\n".join(lines) + "\n")
        frames.append(evaluate(run, split.qrels, measures, method=name))
        rules = sorted({r for e in expansions[name] for r in e.violations})
        exp_frames += [coverage(run, runs["identity"], split.qrels, facets, cov, name),
                       rule_metrics(expansions[name], rules, name), cost_metrics(expansions[name], name)]
    per_query = pd.concat(frames, ignore_index=True)
    board = aggregate(per_query, MEASURES)
    exp_per_query = pd.concat(exp_frames, ignore_index=True)
    atomic_write_text(out / "per_query.csv", per_query.to_csv(index=False))
    atomic_write_text(out / "per_query_expansion.csv", exp_per_query.to_csv(index=False))
    atomic_write_text(out / "metrics.csv", board.to_csv())
    atomic_write_text(out / "expansion_metrics.csv", aggregate(exp_per_query).to_csv())
    analyze(out, "identity", StatsConfig(n_permutations=500, n_bootstrap=200),
            ABTestConfig(n_users=2000, interleaving_impressions=500))
    if training:
        steps = range(1, 21)
        atomic_write_text(out / "training" / "curves.csv", pd.DataFrame({
            "step": list(steps), "reward": [0.1 + 0.02 * s for s in steps],
            "rewards/relevance/mean": [0.2 + 0.01 * s for s in steps], "kl": [0.001 * s for s in steps],
            "completions/mean_length": [30 - 0.2 * s for s in steps]}).to_csv(index=False))
    data = ReportData(
        title=f"hostile run {SCRIPT}", dataset_summary=dataset.summary(), dataset_description=dataset.description,
        generated=True, retriever=f"fake retriever {TEMPLATE}", leaderboard=board,
        measure_notes=[f"note {IMG}", f"`code` {LOOP}"], examples={}, stage_seconds={"load": 1.0, f"x {SCRIPT}": 2.0},
        config_yaml=f"title: {SCRIPT}\n", baseline="identity", expansion_board=aggregate(exp_per_query),
    )
    config = {"experiment_name": f"hostile {TEMPLATE}", "seed": 3, "report": {"explorer_top_results": 5}}
    write_reports(out, data, dataset, 3, config)
    if not with_info:
        (out / "run_info.json").unlink()
    return out
