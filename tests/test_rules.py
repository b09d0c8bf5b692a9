"""Platform rules: every rule with a case that breaks it and one that does not, both policies,
the Expansion filler, and arbitrary text through parse -> rules without an exception."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from leser_bench.data.records import Query
from leser_bench.expansion import Expansion
from leser_bench.policy.parsing import parse_expansions
from leser_bench.policy.rules import RULE_NAMES, PhraseIndex, RuleChecker, RulesConfig, expansion_from_output

CONF = Path(__file__).resolve().parents[1] / "leser_bench" / "conf" / "rules" / "default.yaml"
BRANDS = ["Nike", "Adidas", "New Balance", "Generic", "X"]


@pytest.fixture(scope="module")
def default_config() -> RulesConfig:
    return RulesConfig.from_dict(OmegaConf.load(CONF))


def check(expansions: list[str], query: str = "red shoes", **overrides: object):  # type: ignore[no-untyped-def]
    config = replace(RulesConfig.from_dict(OmegaConf.load(CONF)), **overrides)
    return RuleChecker(config).check(query, expansions, BRANDS)


def test_default_yaml_loads_and_every_rule_is_reported(default_config: RulesConfig) -> None:
    assert default_config.policy == "drop" and "free shipping" in default_config.banned_terms
    result = RuleChecker(default_config).check("red shoes", ["crimson sneakers"], BRANDS)
    assert set(result.violations) == set(RULE_NAMES)
    assert result.kept == ["crimson sneakers"] and result.total_violations == 0 and not result.fell_back


@pytest.mark.parametrize(
    ("rule", "bad", "good"),
    [
        ("non_empty", "  !!  ", "crimson sneakers"),
        ("charset", "красные туфли", "rote schuhe größe 42"),
        ("charset", "crimson\x00sneakers", "crimson sneakers"),
        ("charset", "crimson\u202esneakers", "crimson sneakers"),
        ("banned_term", "cheap crimson sneakers", "cheapskate crimson sneakers"),
        ("banned_term", "crimson sneakers free shipping", "crimson sneakers free delivery"),
        ("banned_term", "crimson sneakers on SALE", "crimson sneakers wholesale"),
        ("banned_term", "damn good sneakers", "good sneakers"),
        ("brand_hijack", "crimson nike sneakers", "crimson sneakers"),
        ("brand_hijack", "crimson new balance trainers", "crimson balance trainers"),
        ("max_words", "one two three four five six seven eight nine ten eleven twelve thirteen",
         "one two three four five six seven eight nine ten eleven twelve"),
        ("near_duplicate_query", "shoes red", "crimson sneakers"),
        ("near_duplicate_query", "red shoe", "red running shoes"),
        ("near_duplicate_query", "Red  Shoes!", "red leather ankle boots"),
    ],
)
def test_each_rule_flags_the_bad_case_only(rule: str, bad: str, good: str) -> None:
    flagged = check([bad])
    assert flagged.violations[rule] == 1, flagged
    assert flagged.kept == [] and flagged.fell_back  # nothing left -> original query
    passed = check([good])
    assert passed.violations[rule] == 0 and passed.kept == [good], passed


def test_brand_in_query_or_allowed_is_fine() -> None:
    assert check(["nike air max red"], query="red nike shoes").kept == ["nike air max red"]
    assert check(["generic red sneakers"]).kept == ["generic red sneakers"]  # allowed in the yaml
    assert check(["x factor red sneakers"]).kept == ["x factor red sneakers"]  # 1-letter brands ignored
    assert check(["adidas red sneakers"], allowed_brands=("Adidas",)).violations["brand_hijack"] == 0
    assert check(["adidas red sneakers"], brand_hijack=False).kept == ["adidas red sneakers"]


def test_banned_term_typed_by_the_user_is_allowed() -> None:
    assert check(["cheap crimson sneakers"], query="cheap red shoes").violations["banned_term"] == 0
    strict = check(["cheap crimson sneakers"], query="cheap red shoes", banned_allowed_if_in_query=False)
    assert strict.violations["banned_term"] == 1


def test_near_duplicates_of_each_other_keep_the_first() -> None:
    result = check(["crimson sneakers", "sneakers crimson", "crimson sneaker", "scarlet trainers"])
    assert result.kept == ["crimson sneakers", "scarlet trainers"]
    assert result.violations["near_duplicate_other"] == 2
    off = check(["crimson sneakers", "sneakers crimson"], near_duplicate_other=False)
    assert off.kept == ["crimson sneakers", "sneakers crimson"]
    assert "near_duplicate_other" not in off.violations  # a disabled rule is not reported


def test_max_expansions_counts_the_extras_after_other_rules() -> None:
    items = ["a1 boots", "cheap heels", "b2 loafers", "c3 pumps", "d4 mules"]
    result = check(items, max_expansions=2)
    assert result.kept == ["a1 boots", "b2 loafers"]
    assert result.violations["max_expansions"] == 2 and result.violations["banned_term"] == 1
    assert check(items, max_expansions=None).violations.get("max_expansions") is None


def test_empty_output_is_a_violation_and_a_fallback() -> None:
    result = check([])
    assert result.violations["non_empty"] == 1 and result.fell_back and result.kept == []


def test_fallback_policy_drops_everything_on_any_violation() -> None:
    result = check(["crimson sneakers", "nike red sneakers"], policy="fallback")
    assert result.fell_back and result.kept == [] and result.violations["brand_hijack"] == 1
    clean = check(["crimson sneakers", "scarlet trainers"], policy="fallback")
    assert not clean.fell_back and clean.kept == ["crimson sneakers", "scarlet trainers"]


def test_fallback_on_selected_rules_under_drop() -> None:
    items = ["crimson sneakers", "nike red sneakers"]
    assert check(items).kept == ["crimson sneakers"]
    forced = check(items, fallback_on=("brand_hijack",))
    assert forced.fell_back and forced.kept == []


def test_format_is_recorded_but_drops_nothing(default_config: RulesConfig) -> None:
    result = RuleChecker(default_config).check("red shoes", ["crimson sneakers"], BRANDS, format_ok=False)
    assert result.violations["format"] == 1 and result.kept == ["crimson sneakers"] and not result.fell_back
    fallback = replace(default_config, policy="fallback")
    assert not RuleChecker(fallback).check("red shoes", ["crimson sneakers"], BRANDS, format_ok=False).fell_back


def test_config_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="unknown rules config keys"):
        RulesConfig.from_dict({"max_word": 3})
    with pytest.raises(ValueError, match="policy"):
        RulesConfig(policy="ignore")
    with pytest.raises(ValueError, match="fallback_on"):
        RulesConfig(fallback_on=("brand",))


def test_phrase_index_matches_whole_words() -> None:
    index = PhraseIndex(["New Balance", "On"])
    assert index.find("new balance running".split()) == {("new", "balance")}
    assert index.find("balance new".split()) == set()


def test_expansion_from_output_fills_the_record(default_config: RulesConfig) -> None:
    query = Query("q1", "red shoes")
    raw = '<think>shoes</think>["crimson sneakers", "nike red sneakers", "red shoes"]'
    filled = expansion_from_output(Expansion(query=query, generated_tokens=12, seconds=0.5), raw,
                                   RuleChecker(default_config), BRANDS)
    assert filled.texts == ["crimson sneakers"]
    assert filled.raw_output == raw and not filled.fell_back
    assert filled.violations["brand_hijack"] == 1 and filled.violations["near_duplicate_query"] == 1
    assert filled.violations["format"] == 0
    assert (filled.generated_tokens, filled.seconds) == (12, 0.5)
    garbage = expansion_from_output(Expansion(query=query), "<think>never finished", RuleChecker(default_config))
    assert garbage.fell_back and garbage.texts == [] and garbage.is_identity
    assert garbage.violations["non_empty"] == 1 and garbage.violations["format"] == 1


_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(["cheap", "nike", "New Balance", "red", "shoes", "\x00", "красный", ",", "\n",
                              "1.", '["', '"]', "<think>", "</think>", "AND", "title:(x)^2", "😀"]),
             max_size=30).map(" ".join),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=_text, query=st.text(max_size=60), policy=st.sampled_from(["drop", "fallback"]))
def test_parse_then_rules_never_raise(raw: str, query: str, policy: str) -> None:
    checker = RuleChecker(RulesConfig.from_dict({**OmegaConf.to_container(OmegaConf.load(CONF)), "policy": policy}))
    parsed = parse_expansions(raw)
    result = checker.check(query, parsed.expansions, BRANDS, format_ok=parsed.format_ok)
    assert set(result.kept) <= set(parsed.expansions)
    assert len(result.kept) <= checker.config.max_expansions
    assert all(count >= 0 for count in result.violations.values())
    assert result.fell_back == (result.kept == [])
    filled = expansion_from_output(Expansion(query=Query("q", query)), raw, checker, BRANDS)
    assert filled.texts == result.kept
