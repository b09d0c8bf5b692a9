"""SFT targets, one record per training query (``targets`` in leser_bench/conf/train/sft.yaml).

- ``rejection``: search-feedback rejection sampling from the base model;
- ``exact_titles``: product-type phrases from the titles of the query's Exact training products;
- ``context_titles``: search-feedback selection over the results the prompt shows: the candidates
  are the shown products' titles without their brand (kept when the query names it), the target is
  the combination that earns the best search reward. It teaches what a policy reading the engine's
  results can do for an unseen query (pick and rewrite shown titles), where ``exact_titles`` asks it
  to recall catalogue vocabulary it cannot see.

Every record has ``query_id``, ``query``, ``prompt`` and ``target`` (a JSON list, or None when the
query gives no usable target); the search-feedback builders add what they chose from.
"""

from __future__ import annotations

import json
import logging
from itertools import combinations
from typing import TYPE_CHECKING, Any

from leser_bench.llm import GenerationConfig, build_backend
from leser_bench.policy.choices import answer_text, completion, shown_items
from leser_bench.policy.prompting import debranded_title  # noqa: F401  (re-exported: tests and scripts import it here)
from leser_bench.policy.rules import RuleChecker
from leser_bench.training.data import TrainingSetup

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from leser_bench.training.sft import SFTSettings


def rejection_targets(setup: TrainingSetup, settings: SFTSettings) -> list[dict[str, Any]]:
    """The base model samples ``n_samples`` completions per query; the best by the search reward is kept
    when its weighted reward exceeds ``min_reward`` (0 = what falling back to the raw query earns)."""
    reward = setup.reward(settings.reward)
    rows = setup.rows()
    backend = build_backend(setup.model)  # the generation cache makes a rerun free
    config = GenerationConfig(max_new_tokens=settings.max_new_tokens, temperature=settings.sample_temperature,
                              top_p=settings.sample_top_p, do_sample=True, num_return_sequences=settings.n_samples,
                              seed=settings.seed, batch_size=settings.sample_batch_size)
    generations = backend.generate([row["prompt"] for row in rows], config)
    ids = [row["query_id"] for row in rows for _ in range(settings.n_samples)]
    completions = [g.text for gens in generations for g in gens]
    scored = reward.score(ids, completions)  # the reward puts the answer prefix back in front
    texts = [setup.answer_prefix + c for c in completions]
    records = []
    for i, row in enumerate(rows):
        block = scored[i * settings.n_samples : (i + 1) * settings.n_samples]
        totals = [s.total(settings.reward.weights) for s in block]
        best = _best(totals, list(range(len(block))), settings.min_reward)
        if best is not None and not block[best].kept:
            best = None  # the best sample fell back to the raw query: nothing to imitate
        records.append({"query_id": row["query_id"], "query": row["query"], "prompt": row["prompt"],
                        "samples": texts[i * settings.n_samples : (i + 1) * settings.n_samples],
                        "rewards": totals, "target": json.dumps(list(block[best].kept)) if best is not None else None,
                        "target_reward": totals[best] if best is not None else None})
    return records


def title_targets(setup: TrainingSetup, settings: SFTSettings) -> list[dict[str, Any]]:
    """Product-type phrases from the titles of each query's Exact-labelled training products (the
    few-shot baseline's :func:`leser_bench.policy.examples.title_targets`: brands, colours and the query's
    own words removed), checked by the rules."""
    from leser_bench.policy.examples import title_targets as phrases  # noqa: PLC0415

    products = setup.dataset.product_index()
    split = setup.train
    queries = {q.id: q for q in split.queries}
    checker = RuleChecker(setup.rules)
    brands = setup.brands()
    records = []
    for row in setup.rows():
        judged = split.qrels[row["query_id"]]
        exact = [products[pid] for pid in sorted(judged) if judged[pid] >= setup.relevant_grade and pid in products]
        candidates = phrases(queries[row["query_id"]], exact, settings.titles_per_query) if exact else []
        kept = checker.check(row["query"], candidates, brands).kept if candidates else []
        records.append({"query_id": row["query_id"], "query": row["query"], "prompt": row["prompt"],
                        "target": json.dumps(kept) if kept else None})
    return records


def context_title_targets(setup: TrainingSetup, settings: SFTSettings) -> list[dict[str, Any]]:
    """Targets from what the prompt shows, chosen by the search reward (one batched search for all queries).

    The items are the rule-abiding titles of the shown products as the prompt shows them (only their first
    ``prompt.title_words`` words when set) without their brand and, when the prompt shows
    PRF terms (``prompt.prf_terms``), those terms without catalogue brands as one more item.
    ``selection: per_query``: every ordered combination of 1..``prompt.n_expansions`` items is scored
    and each query's best is its target when its weighted reward exceeds ``min_reward``.
    ``selection: template``: the answer shapes "the PRF terms (or not), then the first k titles" are
    scored on every query, and the shape with the best mean reward gives every query its target (a
    consistent behaviour a small model can learn; a query's best combination depends on judgments
    it cannot see). Answers that would not fit in ``max_new_tokens`` tokens are not considered
    (template: its last titles are dropped until it fits)."""
    reward = setup.reward(settings.reward)
    checker = RuleChecker(setup.rules)
    brands = setup.brands()
    tokenizer = setup.tokenizer()
    shown = setup.context()
    feedback = setup.feedback()
    rows = setup.rows()

    def fits(option: list[str]) -> bool:
        continuation = completion(option, setup.answer_prefix)
        return len(tokenizer(continuation, add_special_tokens=False)["input_ids"]) <= settings.max_new_tokens

    per_query: list[list[list[str]]] = []
    shapes: list[list[str]] = []
    for row in rows:
        usable, prf = shown_items(row["query"], shown[row["query_id"]], feedback.get(row["query_id"], []),
                                  setup.prompt, checker, brands)
        if settings.selection == "template":
            options, names = _template_options(usable, prf, setup.prompt.n_expansions, fits)
            shapes.append(names)
        else:
            items = usable + ([prf] if prf else [])
            options = [list(c) for n in range(1, setup.prompt.n_expansions + 1)
                       for c in combinations(items, n) if fits(list(c))]
        per_query.append(options)
    ids = [row["query_id"] for row, options in zip(rows, per_query) for _ in options]
    completions = [completion(o, setup.answer_prefix) for options in per_query for o in options]
    scored = reward.score(ids, completions) if completions else []
    blocks, at = [], 0
    for options in per_query:
        blocks.append(scored[at : at + len(options)])
        at += len(options)
    chosen = _best_shape(shapes, blocks, settings) if settings.selection == "template" else None
    records = []
    for i, (row, options, block) in enumerate(zip(rows, per_query, blocks)):
        totals = [s.total(settings.reward.weights) for s in block]
        # the rules may still drop one item of a combination as a near-duplicate of another: skip those
        clean = [j for j, s in enumerate(block) if list(s.kept) == options[j]]
        if chosen is None:
            best = _best(totals, clean, settings.min_reward)
        else:
            best = next((j for j in clean if shapes[i][j] == chosen), None)
        record = {"query_id": row["query_id"], "query": row["query"], "prompt": row["prompt"],
                  "samples": [answer_text(o) for o in options], "rewards": totals,
                  "target": answer_text(options[best]) if best is not None else None,
                  "target_reward": totals[best] if best is not None else None}
        if chosen is not None:
            record["template"] = chosen
        records.append(record)
    return records


def _template_options(titles: list[str], prf: str | None, n_expansions: int,
                      fits: Any) -> tuple[list[list[str]], list[str]]:
    """One answer per shape ``prf+k`` / ``k`` (the PRF item first, then the first k titles), shrunk to fit."""
    options, names = [], []
    for with_prf in ([False, True] if prf else [False]):
        for k in range(0, n_expansions + 1):
            head = [prf] if with_prf else []
            option = head + titles[: min(k, n_expansions - len(head))]
            while len(option) > len(head) and not fits(option):
                option = option[:-1]
            if option and fits(option):
                options.append(option)
                names.append(("prf+" if with_prf else "") + f"{k} titles")
    return options, names


def _best_shape(shapes: list[list[str]], blocks: list[list[Any]], settings: SFTSettings) -> str:
    """The shape with the best mean weighted reward over the queries (a query that cannot form it counts as
    falling back to the raw query: 0); ties go to the first shape in order."""
    order = list(dict.fromkeys(name for names in shapes for name in names))
    if not order:
        raise ValueError("SFT (context_titles, selection=template): no query could form any answer shape")
    totals = dict.fromkeys(order, 0.0)
    for names, block in zip(shapes, blocks):
        for name, scored in zip(names, block):
            totals[name] += scored.total(settings.reward.weights)
    best = max(order, key=lambda name: (totals[name], -order.index(name)))
    log.info("SFT targets: answer shape %r chosen by mean search reward (%s)", best,
             ", ".join(f"{n} {totals[n] / len(shapes):+.3f}" for n in order))
    return best


def _best(totals: list[float], allowed: list[int], min_reward: float) -> int | None:
    """The allowed option with the highest reward (ties: the first), if that reward beats ``min_reward``."""
    if not allowed:
        return None
    best = max(allowed, key=lambda j: (totals[j], -j))
    return best if totals[best] > min_reward else None


SELECTIONS = ("per_query", "template")
BUILDERS = {"rejection": rejection_targets, "exact_titles": title_targets, "context_titles": context_title_targets}
