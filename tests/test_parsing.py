"""The expansion output parser: the expected format, every degraded format, and no exception ever."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leser_bench.policy.parsing import MAX_ITEM_CHARS, MAX_ITEMS, ParsedOutput, parse_expansions


@pytest.mark.parametrize(
    ("raw", "expansions", "reasoning"),
    [
        ('["red running shoes", "crimson sneakers"]', ["red running shoes", "crimson sneakers"], ""),
        ('<think>the user wants shoes</think>\n["red sneakers"]', ["red sneakers"], "the user wants shoes"),
        ('<THINK>x</THINK> ```json\n["a b", "c d"]\n```', ["a b", "c d"], "x"),
        ('```\n["a b"]\n```', ["a b"], ""),
        ('{"expansions": ["usb c cable", "type c charger"]}', ["usb c cable", "type c charger"], ""),
        # the opening tag was part of the prompt
        ('reasoning here</think>["z"]', ["z"], "reasoning here"),
    ],
)
def test_expected_format(raw: str, expansions: list[str], reasoning: str) -> None:
    parsed = parse_expansions(raw)
    assert parsed == ParsedOutput(expansions=expansions, reasoning=reasoning, format_ok=True, raw=raw)


@pytest.mark.parametrize(
    ("raw", "expansions"),
    [
        ("Here are some expansions:\n1. red shoes\n2) crimson sneakers\n- scarlet heels\n* ruby pumps",
         ["red shoes", "crimson sneakers", "scarlet heels", "ruby pumps"]),
        ("• red shoes\n• blue shoes", ["red shoes", "blue shoes"]),
        ("red shoes, blue shoes, green shoes", ["red shoes", "blue shoes", "green shoes"]),
        ("Sure: red shoes; blue shoes", ["red shoes", "blue shoes"]),
        ("red shoes\nblue shoes\n\n", ["red shoes", "blue shoes"]),
        ('["red shoes", "blue sneak', ["red shoes"]),  # truncated JSON: complete strings only
        ('{"expansions": ["a b", "c d", "e', ["a b", "c d"]),
        ('```json\n["x y", "z', ["x y"]),
        ('Sure! Here you go: ["a", "b"] hope this helps', ["a", "b"]),
        ('{"queries": ["q1"]}', ["q1"]),
        ('[1, "two", {"text": "three"}, null]', ["1", "two", "three"]),
        ('"quoted single"', ["quoted single"]),
        ("**bold item**\n`code item`", ["bold item", "code item"]),
    ],
)
def test_degraded_formats(raw: str, expansions: list[str]) -> None:
    parsed = parse_expansions(raw)
    assert parsed.expansions == expansions
    assert parsed.format_ok is False
    assert parsed.raw == raw


def test_unterminated_think_block_is_all_reasoning() -> None:
    parsed = parse_expansions("<think>maybe red sneakers, or crimson shoes")
    assert parsed.expansions == [] and not parsed.format_ok
    assert parsed.reasoning == "maybe red sneakers, or crimson shoes"
    salvaged = parse_expansions('<think>I will answer ["red sneakers", "crimson shoes"] and')
    assert salvaged.expansions == ["red sneakers", "crimson shoes"] and not salvaged.format_ok


def test_text_before_think_or_extra_keys_is_not_the_expected_format() -> None:
    assert not parse_expansions('hi <think>x</think>["a"]').format_ok
    assert parse_expansions('hi <think>x</think>["a"]').expansions == ["a"]
    assert not parse_expansions('{"rewrites": ["a"]}').format_ok
    assert not parse_expansions('["a", 2]').format_ok


def test_empty_and_non_string_input() -> None:
    for raw in ["", "   \n", None, "[]", "{}"]:
        parsed = parse_expansions(raw)
        assert parsed.expansions == [] and parsed.format_ok is (raw == "[]")
    assert parse_expansions(123).expansions == ["123"]


def test_limits_on_huge_outputs() -> None:
    many = parse_expansions(json.dumps([f"item {i}" for i in range(500)]))
    assert len(many.expansions) == MAX_ITEMS
    long = parse_expansions(json.dumps(["x" * 5000]))
    assert len(long.expansions[0]) == MAX_ITEM_CHARS
    assert parse_expansions("[" * 20_000).expansions == []  # deep nesting: no RecursionError


_pieces = st.sampled_from([
    "<think>", "</think>", "```json", "```", "[", "]", "{", "}", '"', "\\", ",", "\n", ";", ":",
    '{"expansions": [', '["a", "b"', "1. ", "- ", "title:(red AND shoes)^2", 'brand:"nike" OR -x*', "~0.8",
    "\x00", "\x1b[31m", "\u202e", "😀", "ß", "null", "true", "NaN", "1e999",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(st.one_of(_pieces, st.text(max_size=20)), max_size=40).map("".join)))
def test_never_raises_on_any_text(raw: str) -> None:
    parsed = parse_expansions(raw)
    assert parsed.raw == raw
    assert isinstance(parsed.reasoning, str)
    assert len(parsed.expansions) <= MAX_ITEMS
    assert all(isinstance(e, str) and e and len(e) <= MAX_ITEM_CHARS for e in parsed.expansions)


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["[", '"', "{", "[\"", "a, ", "<think>", "\\"]), st.text(max_size=50))
def test_never_raises_on_20k_blobs(piece: str, tail: str) -> None:
    raw = piece * (20_000 // len(piece)) + tail
    parse_expansions(raw)
