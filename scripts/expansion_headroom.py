"""Model-free headroom of the expansions a policy that reads the engine could copy (issue 15).

No model is trained or run. On one split of an embedded world, each row is a deterministic expansion
built only from what LESER's prompt can show — the top ``context_k`` results' debranded titles and
RM3's feedback terms for the raw query — searched with the evaluation's Retriever and scored with the
evaluation's measures, beside plain BM25 and Pyserini's RM3. ``oracle:*`` rows pick, per query, the
best of a candidate family by the query's own judgments: an upper bound for a policy that chooses
perfectly among those candidates, not a method. Used to decide which recipe variants are worth a
training (docs/training.md). Usage::

    python scripts/expansion_headroom.py [--profile world] [--split valid] [--n-valid 100] [--n-test 100]
                                         [--n-products N] [--cache DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from itertools import combinations
from pathlib import Path

import pandas as pd

from leser_bench.data.records import ESCI_GRADES
from leser_bench.data.world import generate_world
from leser_bench.data.world.difficulty import RM3_PRF
from leser_bench.expansion import Expansion
from leser_bench.policy.prompting import clipped, debranded_title, feedback_context, search_context
from leser_bench.policy.rules import RuleChecker, catalogue_brands


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from world_difficulty import profile_config  # noqa: PLC0415

    from leser_bench.evaluation import evaluate_many, resolve_all  # noqa: PLC0415
    from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="world")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--split", default="valid")
    parser.add_argument("--n-valid", type=int, default=100)
    parser.add_argument("--n-test", type=int, default=100)
    parser.add_argument("--n-products", type=int, default=None, help="a smaller catalogue (default: the profile's)")
    parser.add_argument("--context-k", type=int, default=5)
    parser.add_argument("--title-words", type=int, default=None,
                        help="copy only each title's first N words (prompt.title_words; the rules' max_words is 12)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "headroom_cache")
    args = parser.parse_args()

    config = dataclasses.replace(profile_config(args.profile, args.seed), n_valid=args.n_valid, n_test=args.n_test)
    if args.n_products:
        config = dataclasses.replace(config, n_products=args.n_products)
    dataset = generate_world(config)
    split = dataset.split(args.split)
    queries = split.queries
    measures, _ = resolve_all(["R@100", "nDCG@10"], dataset.gains, relevant_grade=ESCI_GRADES["E"], k=100)
    index = build_index(dataset.products, IndexConfig(), cache_root=args.cache)
    shown = search_context(Retriever(index, RetrieverConfig()), queries, args.context_k, dataset.product_index())
    titles = {q.id: list(dict.fromkeys(clipped(debranded_title(p, q.text), args.title_words) for p in shown[q.id]))
              for q in queries}
    brands = catalogue_brands(dataset.products)
    # brands left out as written and as stemmed (the prompt's PRF terms are index terms)
    prf = feedback_context(Retriever(index, RetrieverConfig()), queries, 10, brands)

    fixed: dict[str, dict[str, list[str]]] = {
        "prf5": {q.id: [" ".join(prf[q.id][:5])] for q in queries},
        "prf10": {q.id: [" ".join(prf[q.id])] for q in queries},
        "titles3": {q.id: titles[q.id][:3] for q in queries},
        "titles3+prf5": {q.id: titles[q.id][:3] + [" ".join(prf[q.id][:5])] for q in queries},
        "titles3+prf10": {q.id: titles[q.id][:3] + [" ".join(prf[q.id])] for q in queries},
        "titles5+prf10": {q.id: titles[q.id][:5] + [" ".join(prf[q.id])] for q in queries},
    }
    families = {
        "oracle:title combos (1-3)": lambda q: [list(c) for n in (1, 2, 3) for c in combinations(titles[q.id], n)],
        "oracle:title combos + prf10": lambda q: [list(c) + [" ".join(prf[q.id])]
                                                 for n in (0, 1, 2, 3) for c in combinations(titles[q.id], n)],
    }
    checker, tokenizer = RuleChecker(), _tokenizer(args.cache)
    violations, lengths = {}, {}
    for label, texts in fixed.items():
        results = {q.id: checker.check(q.text, texts[q.id], brands) for q in queries}
        violations[label] = sum(r.total_violations > 0 for r in results.values()) / len(queries)
        lengths[label] = sorted(len(tokenizer(json.dumps(texts[q.id]))["input_ids"]) for q in queries)
        fixed[label] = {qid: list(r.kept) for qid, r in results.items()}
    rows, tests = [], []
    for name, repeat, combine in [("concat x2", 2, "concat"), ("concat x1", 1, "concat"), ("concat x3", 3, "concat"),
                                  ("rrf", 2, "rrf")]:
        retriever = Retriever(index, RetrieverConfig(query_repeat=repeat, combine=combine))
        runs = {"bm25": retriever.search([Expansion(query=q) for q in queries], k=100),
                "rm3": retriever.search([Expansion(query=q, prf=dict(RM3_PRF)) for q in queries], k=100)}
        for label, texts in fixed.items():
            runs[label] = retriever.search([Expansion(query=q, texts=texts[q.id]) for q in queries], k=100)
        per_query = evaluate_many(runs, split.qrels, measures)
        for label, family in families.items():
            best = _oracle(retriever, queries, family, split.qrels, measures)
            per_query = pd.concat([per_query, best.assign(method=label)])
        tests.append(_paired(per_query, name))
        table = per_query.pivot_table(index="method", columns="measure", values="value", aggfunc="mean", sort=False)
        rows.append(table.assign(retriever=name).reset_index())
        retriever.close()
    out = pd.concat(rows)
    pd.set_option("display.width", 200)
    print(f"{args.profile} seed {args.seed}, split {args.split} ({len(queries)} queries), context_k {args.context_k}")
    print(out.pivot_table(index="method", columns="retriever", values="R@100", sort=False).round(4).to_string())
    print(out.pivot_table(index="method", columns="retriever", values="nDCG@10", sort=False).round(4).to_string())
    print("\npaired t-test p (concat x2 first): R@100 vs rm3, nDCG@10 vs bm25")
    print(pd.concat(tests).round(4).to_string())
    print("\nrule violations before the rules drop (share of queries) and answer tokens (median / max):")
    for label in fixed:
        print(f"  {label:16s} {violations[label]:.2f}   {lengths[label][len(queries) // 2]} / {lengths[label][-1]}")


def _paired(per_query: pd.DataFrame, name: str) -> pd.DataFrame:
    from scipy.stats import ttest_rel  # noqa: PLC0415

    wide = per_query.pivot_table(index="query_id", columns=["measure", "method"], values="value")
    out = {}
    for method in wide["R@100"].columns:
        out[method] = {"retriever": name,
                       "dR@100 vs rm3": wide["R@100"][method].mean() - wide["R@100"]["rm3"].mean(),
                       "p R@100": ttest_rel(wide["R@100"][method], wide["R@100"]["rm3"]).pvalue,
                       "dnDCG vs bm25": wide["nDCG@10"][method].mean() - wide["nDCG@10"]["bm25"].mean(),
                       "p nDCG": ttest_rel(wide["nDCG@10"][method], wide["nDCG@10"]["bm25"]).pvalue}
    return pd.DataFrame(out).T


def _tokenizer(cache: Path):  # type: ignore[no-untyped-def]
    """SmolLM2's tokenizer (the default policy's): answer lengths in the tokens generation counts."""
    from transformers import AutoTokenizer  # noqa: PLC0415

    from leser_bench.training.tiny import smollm2_tokenizer_dir  # noqa: PLC0415

    return AutoTokenizer.from_pretrained(smollm2_tokenizer_dir(cache))


def _oracle(retriever, queries, family, qrels, measures) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Per query, the candidate with the best R@100 (ties: nDCG@10), both values reported."""
    from leser_bench.evaluation import evaluate_many  # noqa: PLC0415

    expansions, owner = [], []
    for q in queries:
        for n, texts in enumerate(family(q)):
            expansions.append(Expansion(query=dataclasses.replace(q, id=f"{q.id}#{n}"), texts=texts))
            owner.append(q.id)
    run = retriever.search(expansions, k=100)
    sub_qrels = {e.query_id: qrels[o] for e, o in zip(expansions, owner) if o in qrels}
    values = evaluate_many({"x": run}, sub_qrels, measures)
    wide = values.pivot_table(index="query_id", columns="measure", values="value")
    wide["owner"] = wide.index.str.split("#").str[0]
    best = wide.sort_values(["R@100", "nDCG@10"], ascending=False).groupby("owner").head(1)
    long = best.reset_index(drop=True).melt(id_vars="owner", var_name="measure", value_name="value")
    return long.rename(columns={"owner": "query_id"})


if __name__ == "__main__":
    main()
