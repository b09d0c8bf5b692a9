"""What training needs from the harness: the policy's prompts, the train split, the reward, the base model.

The policy input is the shared prompt (:func:`leser_bench.policy.prompting.build_messages`): the raw query,
the top-k products the Retriever returns for it, the platform rules in words and the answer
format; exactly what the context-aware prompted baseline sees. Only the TRAIN split's queries and
qrels enter a :class:`TrainingSetup`; the ids of every other split are handed to the reward as
forbidden, so a held-out query reaching it raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leser_bench.config import section
from leser_bench.data.records import Dataset, Product, Split
from leser_bench.evaluation.measures import resolve
from leser_bench.llm.config import ModelConfig
from leser_bench.policy.prompting import PromptConfig, build_messages, feedback_context, search_context
from leser_bench.policy.rules import PhraseIndex, RuleChecker, RulesConfig, catalogue_brands
from leser_bench.training.reward import RewardConfig, SearchReward


def prompt_config(values: Mapping[str, Any] | None) -> PromptConfig:
    """A :class:`PromptConfig` from a config mapping (lists become tuples); unknown keys fail."""
    return section(PromptConfig, values, "prompt", label="prompt")


def model_source(model: ModelConfig) -> str:
    """A local directory (or hub id) transformers can load: the converted GGUF copy by default."""
    if model.path is not None:
        local = Path(model.path).expanduser()
        return str(local) if local.is_dir() else model.path
    from leser_bench.llm.local_model import convert_gguf, find_gguf  # noqa: PLC0415

    return str(convert_gguf(find_gguf(model.gguf_package or "", model.gguf_file), model.resolved_cache_dir))


@dataclass
class TrainingSetup:
    """The training split and everything derived from it; holds no judgment of any other split."""

    dataset: Dataset
    retriever: Any
    prompt: PromptConfig
    rules: RulesConfig
    model: ModelConfig
    relevant_grade: int
    split_name: str = "train"
    #: at most this many training queries (0 = all), the first ones in split order.
    max_queries: int = 0
    #: the start of the answer written for the model (e.g. ``["``), as the prompted baselines'
    #: ``answer_prefix``: prompts are then the chat-templated text plus this prefix, and the reward
    #: and SFT targets treat a completion as continuing it.
    answer_prefix: str = ""
    _prompts: dict[str, list[dict[str, str]]] = field(default_factory=dict, repr=False)
    _context: dict[str, list[Product]] = field(default_factory=dict, repr=False)
    _feedback: dict[str, list[str]] | None = field(default=None, repr=False)
    _tokenizer: Any = field(default=None, repr=False)

    @property
    def train(self) -> Split:
        split = self.dataset.split(self.split_name)
        if self.max_queries and len(split.queries) > self.max_queries:
            keep = split.queries[: self.max_queries]
            return Split(split.name, keep, {q.id: split.qrels[q.id] for q in keep if q.id in split.qrels})
        return split

    @property
    def held_out_ids(self) -> set[str]:
        """Query ids of every split but the training one (the reward refuses them)."""
        return {q.id for name, s in self.dataset.splits.items() if name != self.split_name for q in s.queries}

    def context(self) -> dict[str, list[Product]]:
        """query id -> the products the prompt shows (the Retriever's top ``prompt.context_k``)."""
        if not self._context:
            self._context = search_context(self.retriever, self.train.queries, self.prompt.context_k,
                                           self.dataset.product_index())
        return self._context

    def feedback(self) -> dict[str, list[str]]:
        """query id -> the PRF terms the prompt shows (``prompt.prf_terms`` of them; empty lists when 0)."""
        if self._feedback is None or set(self._feedback) != {q.id for q in self.train.queries}:
            self._feedback = feedback_context(self.retriever, self.train.queries, self.prompt.prf_terms,
                                              self.brands() if self.prompt.debrand else None)
        return self._feedback

    def prompts(self) -> dict[str, list[dict[str, str]]]:
        if not self._prompts:
            context = self.context()
            terms = self.feedback()
            self._prompts = {q.id: build_messages(q, self.prompt, self.rules, context[q.id], terms=terms[q.id])
                             for q in self.train.queries}
        return self._prompts

    def brands(self) -> PhraseIndex:
        """The catalogue's brands, as the brand rule looks them up."""
        return catalogue_brands(self.dataset.products)

    def tokenizer(self) -> Any:
        """The base model's tokenizer (loaded once)."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer  # noqa: PLC0415

            source = model_source(self.model)
            self._tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=Path(source).is_dir())
        return self._tokenizer

    def render(self, messages: list[dict[str, str]]) -> str:
        """The chat-templated prompt text plus the answer prefix (as the transformers backend renders it)."""
        text = self.tokenizer().apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return str(text) + self.answer_prefix

    def rows(self) -> list[dict[str, Any]]:
        """Training rows: ``prompt`` (chat messages, or the rendered text when there is an answer prefix),
        ``query_id``, ``query`` (TRL passes the last two to the reward as columns). Queries without
        judgments are skipped (nothing to reward)."""
        prompts = self.prompts()
        split = self.train
        return [{"prompt": self.render(prompts[q.id]) if self.answer_prefix else prompts[q.id],
                 "query_id": q.id, "query": q.text}
                for q in split.queries if split.qrels.get(q.id)]

    def reward(self, config: RewardConfig) -> SearchReward:
        split = self.train
        measure = resolve(config.measure, self.dataset.gains, self.relevant_grade)
        return SearchReward(config, self.retriever, split.queries, split.qrels, measure, self.dataset.products,
                            RuleChecker(self.rules), self.relevant_grade, forbidden_ids=self.held_out_ids,
                            answer_prefix=self.answer_prefix)

    def fingerprint(self) -> dict[str, Any]:
        """What the trained model depends on from the data side (for cache keys)."""
        split = self.train
        return {"dataset": self.dataset.name, "split": self.split_name,
                "queries": [(q.id, q.text) for q in split.queries], "qrels": split.qrels,
                "prompt": self.prompt, "rules": self.rules, "retriever": getattr(self.retriever, "config", None),
                "relevant_grade": self.relevant_grade, "answer_prefix": self.answer_prefix}
