"""Every check of a run's config, done before any work: method settings, data set, retriever, evaluation,
budget, statistics and A/B simulation. ``--cfg job`` composes the same config; the run calls :func:`validate`
first, so every user error ends as one line and exit 2 before the data set is loaded."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from leser_bench.abtest import abtest_config_from
from leser_bench.config import CONF_DIR, check_keys, field_names, section
from leser_bench.data.loading import dataset_config
from leser_bench.errors import ConfigError
from leser_bench.evaluation import MeasureError
from leser_bench.evaluation.measures import parse as parse_measure
from leser_bench.methods import ConfigView, check_method_settings
from leser_bench.report.explorer import explorer_config
from leser_bench.retrieval import RetrieverConfig
from leser_bench.stats import stats_config_from
from leser_bench.tracking import tracking_config

log = logging.getLogger("leser_bench.pipeline")


def method_configs(cfg: DictConfig) -> dict[str, dict[str, Any]]:
    """The methods to run, in order: ``methods.*`` then the single ``method`` override, if any."""
    methods: dict[str, dict[str, Any]] = {}
    for key, value in (cfg.get("methods") or {}).items():
        if value is not None:
            methods[str(key)] = OmegaConf.to_container(value, resolve=True)
    single = cfg.get("method")
    if single is not None:
        single = OmegaConf.to_container(single, resolve=True)
        methods[str(single.get("name"))] = single
    if not methods:
        raise ConfigError("no methods configured: set `methods` or `method=<name>`")
    return methods


def retriever_config(cfg: Mapping[str, Any]) -> tuple[RetrieverConfig, int]:
    """The retriever group: RetrieverConfig's fields plus ``k``, the retrieval depth (required)."""
    values = dict(cfg)
    if "k" not in values:
        raise ConfigError("retriever.k is missing (the retrieval depth, e.g. 1000)")
    k = int(values.pop("k"))
    if k <= 0:
        raise ConfigError(f"retriever.k must be > 0, got {k}")
    check_keys(values, [*field_names(RetrieverConfig), "k"], "retriever")
    for key, low, high in (("k1", 0.0, math.inf), ("b", 0.0, 1.0)):
        if key in values:
            value = values[key]
            if not _is_number(value) or not low <= float(value) <= high:
                allowed = f"a number >= {low:g}" if high == math.inf else f"a number in [{low:g}, {high:g}]"
                raise ConfigError(f"retriever.{key}={value!r} is not allowed; it must be {allowed}")
    try:
        return section(RetrieverConfig, values, "retriever"), k
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


#: a method name becomes file names (runs/<name>.trec, expansions/<name>.jsonl, training/<name>/).
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_method_name(key: str, name: object) -> None:
    """A method name is a safe file name: letters, digits, ``_ . -``, not starting with ``.`` or ``-``."""
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        raise ConfigError(f"{key}={name!r} is not allowed as a method name (it names files of the run): use "
                          "letters, digits, '_', '.' and '-', starting with a letter, digit or '_'")


def check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed={seed!r} is not allowed; it must be an integer >= 0")
    return seed


#: the policy keys a trained method shares with the prompted model it starts from.
POLICY_KEYS = ("prompt", "generation", "rules", "chunk_size", "answer_prefix")


def policy_mismatches(methods: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """SFT/LESER methods whose policy differs from the context-aware method of the same run: their rows then
    compare another prompt, not only other weights (an override of one method does not reach the others)."""
    starts = [m for m in methods.values() if m.get("kind") == "context_aware"]
    if not starts:
        return []
    notes = []
    for key, m in methods.items():
        if m.get("kind") in ("sft", "leser"):
            differ = [k for k in POLICY_KEYS if m.get(k) != starts[0].get(k)]
            if differ:
                notes.append(f"methods.{key} differs from the context-aware method in {differ}: the comparison "
                             "is not weights alone (override both to keep them equal)")
    return notes


def known_methods() -> list[str]:
    """The method configs Hydra can find (leser_bench/conf/method/*.yaml and any ``hydra.searchpath``)."""
    from hydra.core.global_hydra import GlobalHydra  # noqa: PLC0415

    if GlobalHydra.instance().is_initialized():
        return sorted(GlobalHydra.instance().config_loader().get_group_options("method"))
    return sorted(p.stem for p in (CONF_DIR / "method").glob("*.yaml"))


def check_method_choice(cfg: DictConfig) -> None:
    """``method=<name>`` naming no config: Hydra's ``optional`` default drops it silently; refuse it here."""
    from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415

    if not HydraConfig.initialized():
        return
    choice = HydraConfig.get().runtime.choices.get("method")
    if choice is not None and cfg.get("method") is None:
        raise ConfigError(f"method={choice!r} is not a known method; known: {', '.join(known_methods())} "
                          "(leser_bench/conf/method/*.yaml; add several with +method@methods.<key>=<name>)")


def check_mapping_overrides(cfg: DictConfig) -> None:
    """``key={a: 1}`` on the command line: Hydra merges the mapping into the default one, so the default's
    other keys are silently kept (``retriever.field_weights={contents: 1.0}`` kept ``title``). Refused,
    with the two spellings that say what is meant."""
    from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415
    from hydra.core.override_parser.overrides_parser import OverridesParser  # noqa: PLC0415

    if not HydraConfig.initialized():
        return
    for override in OverridesParser.create().parse_overrides(list(HydraConfig.get().overrides.task)):
        if override.is_delete() or override.is_add() or not isinstance(override.value(), dict):
            continue
        node = OmegaConf.select(cfg, override.key_or_group)
        kept = sorted(set(node) - set(override.value()), key=str) if isinstance(node, DictConfig) else []
        if kept:
            key, text = override.key_or_group, override.input_line
            raise ConfigError(f"{text}: Hydra merges a mapping into the default, so {kept} would be kept; to "
                              f"replace it write `~{key} '+{text}'`, to change single entries `{key}.<entry>=…`")


def validate(cfg: DictConfig) -> None:
    """Check every config group before any work is done."""
    check_seed(cfg.get("seed"))
    check_mapping_overrides(cfg)
    check_method_choice(cfg)
    dataset_config(OmegaConf.to_container(cfg.dataset, resolve=True))
    retriever_config(OmegaConf.to_container(cfg.retriever, resolve=True))
    view = ConfigView(config=OmegaConf.to_container(cfg, resolve=True), seed=int(cfg.seed))
    methods = method_configs(cfg)
    for key, method_cfg in methods.items():
        check_method_name("method.name" if cfg.get("method") is not None and key == str(cfg.method.get("name"))
                          else f"methods.{key}", key)
        if "name" in method_cfg:
            check_method_name(f"methods.{key}.name", method_cfg["name"])
        check_method_settings(key, method_cfg, view)
    check_evaluation_config(cfg.evaluation)
    check_budget(cfg.get("budget") or {})
    pairs = stats_config_from(cfg.get("stats")).pairs
    unknown = sorted({name for pair in pairs for name in pair} - set(methods))
    if unknown:
        raise ConfigError(f"stats.pairs names {unknown}, which are not among the methods run: {list(methods)}")
    abtest_config_from(cfg.get("abtest"))
    tracking_config(cfg)
    try:
        explorer_config({"report": OmegaConf.to_container(cfg.get("report") or {}, resolve=True)})
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for note in policy_mismatches(methods):
        log.warning("%s", note)
    if cfg.baseline not in methods:
        raise ConfigError(f"baseline={cfg.baseline!r} is not among the methods run: {list(methods)}")
    run_only(cfg, methods)


def run_only(cfg: DictConfig, methods: Mapping[str, Any]) -> list[str] | None:
    """The methods of this part of a split comparison (``run_only``), None for a whole run."""
    value = cfg.get("run_only")
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, ListConfig | list) else None
    if not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"run_only={value!r}; allowed: a method name, a list of them, or null")
    unknown = [n for n in names if n not in methods]
    if unknown:
        raise ConfigError(f"run_only: {unknown} are not among the configured methods {list(methods)}")
    return [n for n in methods if n in names]  # the run's method order


def check_budget(budget: Mapping[str, Any]) -> None:
    """The evaluation sample size is a positive integer or null (the whole split)."""
    size = budget.get("llm_queries")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ConfigError(f"budget.llm_queries={size!r}; allowed: a number >= 1 or null (the whole split)")


def check_evaluation_config(evaluation: DictConfig) -> None:
    """Measure names ir-measures knows and positive cutoffs, before any data is loaded."""
    for name in evaluation.measures or []:
        try:
            cutoff = parse_measure(str(name)).params.get("cutoff")
        except MeasureError as exc:
            raise ConfigError(f"evaluation.measures: {exc}") from None
        if cutoff is not None and int(cutoff) <= 0:
            raise ConfigError(f"evaluation.measures: {name!r} has cutoff {cutoff}; a cutoff must be > 0")
    coverage_k = int(evaluation.coverage.k)
    if coverage_k <= 0:
        raise ConfigError(f"evaluation.coverage.k must be > 0, got {coverage_k}")
