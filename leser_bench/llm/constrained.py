"""Constrained decoding to a list of allowed completions, through transformers' own hook
(``generate(prefix_allowed_tokens_fn=...)``, the mechanism GENRE-style entity decoding uses).

Each row's allowed completions are tokenized as the tokenizer tokenizes them on their own (what SFT
trained the model to write) and put in a token trie; at every step only the trie's next tokens are
allowed, and an end-of-sequence token once a whole completion is written. Completions longer than
``max_new_tokens`` are left out (they would be cut off mid-answer); a row none of whose completions
fits is left unconstrained, and counted in ``unconstrained_rows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_END = -1  # trie key: a whole completion ends here


class ChoiceConstraint:
    """``(batch_id, input_ids) -> allowed next token ids`` for ``model.generate``."""

    def __init__(self, tokenizer: Any, rows: Sequence[Sequence[str] | None], eos_ids: Sequence[int],
                 max_new_tokens: int, prompt_length: int) -> None:
        self.eos_ids = list(eos_ids)
        self.prompt_length = prompt_length
        self.vocabulary = list(range(len(tokenizer)))
        self.tries: list[dict[int, Any] | None] = []
        self.unconstrained_rows = 0
        cache: dict[tuple[str, ...], dict[int, Any] | None] = {}
        for options in rows:
            key = tuple(options) if options is not None else None
            if key is None:
                self.tries.append(None)
                continue
            if key not in cache:
                cache[key] = self._trie(tokenizer, key, max_new_tokens)
            self.tries.append(cache[key])
            self.unconstrained_rows += cache[key] is None

    @staticmethod
    def _trie(tokenizer: Any, options: Sequence[str], max_new_tokens: int) -> dict[int, Any] | None:
        root: dict[int, Any] = {}
        for text in options:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            if not ids or len(ids) > max_new_tokens:
                continue
            node = root
            for token in ids:
                node = node.setdefault(token, {})
            node[_END] = {}
        return root or None

    def __call__(self, batch_id: int, input_ids: Any) -> list[int]:
        trie = self.tries[batch_id]
        if trie is None:
            return self.vocabulary
        node = trie
        for token in input_ids[self.prompt_length :].tolist():
            if token in self.eos_ids and _END in node:
                return self.eos_ids  # finished: the rest is padding
            node = node.get(token)
            if node is None:
                return self.eos_ids  # cannot happen under the constraint; end the row rather than fail
        allowed = [t for t in node if t != _END]
        return allowed + self.eos_ids if _END in node else allowed
