"""Constrained GRPO rollouts (``train.constrained_rollouts``, with the method's ``constrain: shown``).

TRL's ``GRPOTrainer`` has no per-prompt generation hook, so the trained model's ``generate`` is wrapped:
each rollout row's prompt (decoded from its token ids, left padding removed) is looked up among the
training prompts and its allowed completions (:mod:`leser_bench.policy.choices`, as the evaluation
computes them) constrain the sampling through transformers' ``prefix_allowed_tokens_fn``. GRPO then
optimizes the policy that the evaluation scores. The loss still uses the free model's log-probabilities
of the sampled tokens (what TRL computes), so the update raises the probability of good allowed
answers under the unconstrained model. A rollout prompt that is not a training prompt is an error,
never a silently unconstrained rollout. Transformers generation only (no vLLM). The validation monitor
generates with the same model, its own prompts under its own constraint: it does so inside
:func:`own_generate`, which lifts the wrapper for that call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from leser_bench.llm.constrained import ChoiceConstraint
from leser_bench.policy.choices import allowed_answers
from leser_bench.policy.rules import RuleChecker


def rollout_choices(setup: Any) -> dict[str, list[str] | None]:
    """Rendered training prompt -> its allowed completions (None: nothing shown, sampled free)."""
    checker, brands = RuleChecker(setup.rules), setup.brands()
    shown, terms, prompts = setup.context(), setup.feedback(), setup.prompts()
    out: dict[str, list[str] | None] = {}
    for row in setup.rows():
        qid = row["query_id"]
        out[setup.render(prompts[qid])] = allowed_answers(row["query"], shown.get(qid, []), terms.get(qid, []),
                                                          setup.prompt, checker, brands, setup.answer_prefix)
    return out


def constrain_rollouts(model: Any, tokenizer: Any, by_prompt: dict[str, list[str] | None], eos_ids: list[int],
                       max_new_tokens: int) -> None:
    """Wrap ``model.generate`` (the instance TRL generates with) so that every row is constrained."""
    original = model.generate
    pad = tokenizer.pad_token_id

    def generate(*args: Any, **kwargs: Any) -> Any:
        input_ids = kwargs.get("input_ids", args[0] if args else None)
        rows = []
        for ids in input_ids.tolist():
            start = 0
            while start < len(ids) and ids[start] == pad:
                start += 1
            text = tokenizer.decode(ids[start:], skip_special_tokens=False)
            if text not in by_prompt:
                raise RuntimeError("constrained rollouts: a rollout prompt is not one of the training prompts "
                                   f"({text[-120:]!r}); the tokenizer did not round-trip it")
            rows.append(by_prompt[text])
        kwargs["prefix_allowed_tokens_fn"] = ChoiceConstraint(tokenizer, rows, eos_ids, max_new_tokens,
                                                              prompt_length=input_ids.shape[1])
        return original(*args, **kwargs)

    generate.rollouts_unwrapped = original  # type: ignore[attr-defined]
    model.generate = generate


@contextmanager
def own_generate(model: Any) -> Iterator[None]:
    """``model.generate`` without the rollout wrapper for the duration (a no-op on an unwrapped model)."""
    wrapper = vars(model).get("generate")
    original = getattr(wrapper, "rollouts_unwrapped", None)
    if original is None:
        yield
        return
    model.generate = original
    try:
        yield
    finally:
        model.generate = wrapper
