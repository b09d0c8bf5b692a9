"""Validation curves during GRPO: every N steps, the current policy expands the validation queries
greedily and is scored like the evaluation scores it (rules, the evaluation Retriever, ir-measures).

This is monitoring only: no gradient, no checkpoint selection. It shows whether relevance on held-out
queries rises with GRPO steps beyond the SFT warm start, and where it saturates (issue 15). The
generation is the evaluation backend's own code (:class:`~leser_bench.llm.hf_backend.TransformersBackend`
over the trainer's in-memory model, greedy, ``max_completion_length`` new tokens), so a step's
validation numbers are what ``evaluation.split=valid`` would report for that step's weights.

Rows go into the trainer's ``log_history`` (so checkpoints carry them and a resumed run keeps the
curve of the steps before the interruption) and into the run's ``curves.csv`` as ``valid/<measure>``,
``valid/violation_rate``, ``valid/fallback_rate`` columns.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leser_bench.config import section

log = logging.getLogger(__name__)

PREFIX = "valid/"


@dataclass(frozen=True)
class ValidationSettings:
    """``train.validation``: ``every`` 0 switches the monitor off (the default)."""

    #: evaluate the policy on the validation split every this many optimizer steps (and at step 0).
    every: int = 0
    #: the split evaluated (the data set must hold judged queries in it, e.g. world ``n_valid``).
    split: str = "valid"
    #: at most this many validation queries, the first ones in split order (0 = all).
    max_queries: int = 100
    #: ir-measures names, resolved with the data set's gains as evaluation resolves them.
    measures: tuple[str, ...] = ("R@100", "nDCG@10")
    #: prompts per generation batch (does not change what greedy decoding produces).
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.every < 0 or self.max_queries < 0 or self.batch_size < 1:
            raise ValueError("train.validation: every and max_queries must be >= 0, batch_size >= 1")
        if self.every and not self.measures:
            raise ValueError("train.validation.measures: name at least one measure")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> ValidationSettings:
        return section(cls, values, "train.validation", label="train.validation")


class ValidationMonitor:
    """Scores the policy on the validation queries; :meth:`callback` runs it every ``every`` steps."""

    def __init__(self, setup: Any, settings: ValidationSettings, max_new_tokens: int,
                 constrain: str | None = None) -> None:
        from leser_bench.evaluation import resolve_all  # noqa: PLC0415 - heavy imports
        from leser_bench.training.reward import RewardConfig  # noqa: PLC0415

        self.settings = settings
        self.max_new_tokens = max_new_tokens
        #: the method's ``constrain``: the monitor decodes as the evaluation will.
        self.constrain = constrain
        self.setup = validation_setup(setup, settings)
        split = self.setup.train
        self.queries = [q for q in split.queries if split.qrels.get(q.id)]
        if not self.queries:
            raise ValueError(f"train.validation: split {settings.split!r} has no judged query "
                             "(for the embedded world set dataset.n_valid)")
        self.qrels = {q.id: split.qrels[q.id] for q in self.queries}
        self.measures, _ = resolve_all(list(settings.measures), self.setup.dataset.gains,
                                       relevant_grade=self.setup.relevant_grade, k=1000)
        # the reward's parser and rule checker, over the validation qrels (its scores are not used)
        self.checker = self.setup.reward(RewardConfig())
        self.rows: list[dict[str, float]] = []

    def evaluate(self, model: Any, tokenizer: Any) -> dict[str, float]:
        """``valid/<measure>`` means and rule rates of the greedy expansions of ``model``."""
        from leser_bench.evaluation import evaluate  # noqa: PLC0415
        from leser_bench.expansion import Expansion  # noqa: PLC0415

        texts = self._generate(model, tokenizer)
        expansions, violated, fell_back = [], 0, 0
        for query, text in zip(self.queries, texts):
            kept, violations, fallback, _ = self.checker.check(query.id, self.setup.answer_prefix + text)
            expansions.append(Expansion(query=query, texts=list(kept)))
            violated += any(v > 0 for v in violations.values())
            fell_back += fallback
        depth = max([m.cutoff or 1000 for m in self.measures])
        run = self.setup.retriever.search(expansions, k=depth)
        frame = evaluate(run, self.qrels, self.measures, "valid")
        means = frame.groupby("measure")["value"].mean()
        n = len(self.queries)
        out = {f"{PREFIX}{m.name}": float(means[m.name]) for m in self.measures}
        out.update({f"{PREFIX}violation_rate": violated / n, f"{PREFIX}fallback_rate": fell_back / n})
        return out

    def _generate(self, model: Any, tokenizer: Any) -> list[str]:
        from leser_bench.llm.hf_backend import TransformersBackend  # noqa: PLC0415
        from leser_bench.llm.types import GenerationConfig  # noqa: PLC0415
        from leser_bench.training.rollouts import own_generate  # noqa: PLC0415

        prompts = self.setup.prompts()
        texts = [self.setup.render(prompts[q.id]) for q in self.queries]
        generation = GenerationConfig(max_new_tokens=self.max_new_tokens, do_sample=False,
                                      batch_size=self.settings.batch_size)
        backend = TransformersBackend.over(self.setup.model, model, generation_tokenizer(tokenizer))
        choices = self._choices() if self.constrain == "shown" else None
        was_training = model.training
        model.eval()
        try:
            with own_generate(model):  # not through the constrained-rollouts wrapper: these are not rollouts
                if choices is None:
                    return [g[0].text for g in backend.generate(texts, generation)]
                return [g[0].text for g in backend.generate(texts, generation, choices=choices)]
        finally:
            model.train(was_training)

    def _choices(self) -> list[list[str] | None]:
        """Each validation query's allowed completions, as the prompted policy computes them."""
        from leser_bench.policy.choices import allowed_answers  # noqa: PLC0415
        from leser_bench.policy.rules import RuleChecker  # noqa: PLC0415

        checker, brands = RuleChecker(self.setup.rules), self.setup.brands()
        shown, terms = self.setup.context(), self.setup.feedback()
        return [allowed_answers(q.text, shown.get(q.id, []), terms.get(q.id, []), self.setup.prompt, checker, brands,
                                self.setup.answer_prefix) for q in self.queries]

    def callback(self, recorder: Any) -> Any:
        """A transformers callback: evaluates at the start and every ``every`` steps, logging the row
        into ``state.log_history`` and ``recorder``."""
        from transformers import TrainerCallback  # noqa: PLC0415

        monitor, every = self, self.settings.every

        class _Validation(TrainerCallback):  # type: ignore[misc]
            def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                # the starting weights (a resumed run's state is loaded after on_train_begin: not there)
                if state.global_step == 0 and not monitor.rows:
                    self._record(state, kwargs)

            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                if state.global_step % every == 0 or state.global_step == state.max_steps:
                    self._record(state, kwargs)

            def _record(self, state: Any, kwargs: dict[str, Any]) -> None:
                row = monitor.evaluate(kwargs["model"], kwargs["processing_class"])
                step = int(state.global_step)
                log.info("validation at step %d: %s", step, {k: round(v, 4) for k, v in row.items()})
                state.log_history.append({**row, "step": step})
                recorder.add(step, row)
                monitor.rows.append({"step": float(step), **row})

        return _Validation()


def validation_setup(setup: Any, settings: ValidationSettings) -> Any:
    """The training setup's twin over the validation split (its own prompts and context)."""
    if settings.split == setup.split_name:
        raise ValueError(f"train.validation.split={settings.split!r} is the training split")
    if settings.split not in setup.dataset.splits:
        raise ValueError(f"train.validation.split={settings.split!r}: the data set has splits "
                         f"{sorted(setup.dataset.splits)} (for the embedded world set dataset.n_valid)")
    return dataclasses.replace(setup, split_name=settings.split, max_queries=settings.max_queries,
                               _prompts={}, _context={}, _feedback=None, _tokenizer=setup._tokenizer)


def generation_tokenizer(tokenizer: Any) -> Any:
    """A left-padding copy of the trainer's tokenizer (the trainer's own is left as it is)."""
    out = copy.deepcopy(tokenizer)
    out.padding_side = "left"
    if out.pad_token is None:
        out.pad_token = out.eos_token
    return out


def fingerprint(setup: Any, settings: ValidationSettings, constrain: str | None = None) -> Any:
    """What the validation curve depends on beyond the training (None when the monitor is off)."""
    if not settings.every:
        return None
    split = validation_setup(setup, settings).train
    out = {"split": settings.split, "queries": [(q.id, q.text) for q in split.queries], "qrels": split.qrels}
    if constrain is not None:
        out["constrain"] = constrain
    return out
