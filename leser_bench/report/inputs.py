"""Everything a report shows, read from a finished run directory (old runs included).

Nothing here computes a statistic: significance and A/B numbers come from ``stats.csv`` and
``abtest.csv`` written by :mod:`leser_bench.analyze`; metric means from ``metrics.csv``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from leser_bench.io.cache import atomic_write_text
from leser_bench.io.trec import read_run
from leser_bench.data.records import Product
from leser_bench.report.runinfo import ReportInputError, RunInfo, load_run_info

PRODUCTS_FILE = "shown_products.jsonl"
#: where a training CSV is looked for when none is given (the training helper writes curves.csv).
TRAINING_CANDIDATES = ("training/curves.csv", "curves.csv", "training_curves.csv")

Run = dict[str, dict[str, float]]


@dataclass
class ReportInputs:
    run_dir: Path
    info: RunInfo
    config: dict[str, Any]
    overrides: list[str]
    leaderboard: pd.DataFrame  # index: method; columns: measures
    per_query: pd.DataFrame  # [method, query_id, measure, value]
    expansion_board: pd.DataFrame | None
    stats: pd.DataFrame | None
    abtest: pd.DataFrame | None
    #: method -> query id -> the expansion record of expansions/<method>.jsonl
    expansions: dict[str, dict[str, dict[str, Any]]]
    runs: dict[str, Run]
    qrels: dict[str, dict[str, int]]
    #: product id -> {title, brand, product_type} for products shown in the top results.
    products: dict[str, dict[str, str]]
    training: pd.DataFrame | None
    training_path: Path | None
    #: query_sets.json: which queries the main table covers and, when it is a sample, the whole split's table.
    query_sets: dict[str, Any] | None = None
    #: metrics_full.csv: the methods that ran on every query of the split, over all of it.
    full_board: pd.DataFrame | None = None
    #: ``stats_pairs.csv``: the comparisons ``stats.pairs`` chose (None without).
    pairs: pd.DataFrame | None = None

    def main_set_note(self) -> str:
        main = (self.query_sets or {}).get("main") or {}
        return f"Queries: {main['description']}." if main.get("description") else ""

    def full_set_note(self) -> str:
        full = (self.query_sets or {}).get("full") or {}
        return (f"Queries: {full['description']}; only the methods that ran on every query of the split "
                f"(the query-side LLM methods saw the sample of the table above)." if full else "")

    @property
    def methods(self) -> list[str]:
        return [str(m) for m in self.leaderboard.index]

    @property
    def measures(self) -> list[str]:
        return [str(c) for c in self.leaderboard.columns]

    @property
    def baseline(self) -> str:
        return self.info.baseline

    def stats_vs_baseline(self) -> pd.DataFrame | None:
        if self.stats is None or self.stats.empty:
            return None
        rows = self.stats[self.stats["baseline"].astype(str) == self.baseline]
        return rows if not rows.empty else None


def read_csv(path: Path, required: bool, **kwargs: Any) -> pd.DataFrame | None:
    if not path.is_file():
        if required:
            raise ReportInputError(f"{path}: missing; is {path.parent} a finished run directory?")
        return None
    try:
        return pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        if "No columns to parse" in str(exc):
            return None  # an empty abtest.csv: no A/B rows
        raise ReportInputError(f"{path}: not a readable CSV ({exc})") from None


def read_board(path: Path, required: bool) -> pd.DataFrame | None:
    frame = read_csv(path, required)
    if frame is None:
        return None
    if "method" not in frame.columns:
        raise ReportInputError(f"{path}: no 'method' column (found {list(frame.columns)})")
    return frame.assign(method=frame["method"].astype(str)).set_index("method")


#: expansion measures that count broken rules: a method without rules (identity, RM3) broke none.
RULE_COLUMNS = ("Violated", "Violations:", "FellBack")


def rules_filled(board: pd.DataFrame | None) -> pd.DataFrame | None:
    """The expansion board with 0 (not NaN) in the rule columns of methods that have no rules."""
    if board is None:
        return None
    columns = [c for c in board.columns if str(c).startswith(RULE_COLUMNS)]
    return board.fillna({c: 0.0 for c in columns}) if columns else board


def read_records(path: Path, key: str) -> dict[str, dict[str, Any]]:
    """A JSONL file as {record[key]: record}; a bad line is an error naming file and line."""
    out: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                out[str(record[key])] = record
            except (ValueError, KeyError, TypeError):
                raise ReportInputError(f"{path}:{number}: expected a JSON object with {key!r}") from None
    return out


def read_products(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    return {pid: {k: str(r.get(k, "") or "") for k in ("title", "brand", "product_type")}
            for pid, r in read_records(path, "id").items()}


def top_ids(run: Run, n: int) -> dict[str, list[str]]:
    """Query id -> the first ``n`` product ids by descending score (ties by id, as the TREC files)."""
    return {qid: [d for d, _ in sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
            for qid, docs in run.items()}


def save_shown_products(run_dir: Path, products: Iterable[Product], runs: dict[str, Run], n: int) -> Path:
    """Write the catalogue fields of every product in some method's top ``n`` (the explorer shows them)."""
    wanted = {pid for run in runs.values() for ids in top_ids(run, n).values() for pid in ids}
    lines = [json.dumps({"id": p.id, "title": p.title, "brand": p.brand, "product_type": p.product_type},
                        ensure_ascii=False) for p in products if p.id in wanted]
    path = run_dir / PRODUCTS_FILE
    atomic_write_text(path, "\n".join(sorted(lines)) + "\n")
    return path


def find_training_csv(run_dir: Path, given: Path | None) -> Path | None:
    if given is not None:
        if not given.is_file():
            raise ReportInputError(f"{given}: training CSV not found")
        return given
    found = next((run_dir / c for c in TRAINING_CANDIDATES if (run_dir / c).is_file()), None)
    if found is None:  # trainings write training/<method>/curves.csv: LESER's first, else the first method's
        per_method = sorted((run_dir / "training").glob("*/curves.csv"), key=lambda p: (p.parent.name != "leser", p))
        found = per_method[0] if per_method else None
    return found


def read_training(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    frame = read_csv(path, required=True)
    if frame is None or frame.empty:
        return None
    if "step" not in frame.columns:
        raise ReportInputError(f"{path}: a training CSV needs a 'step' column (found {list(frame.columns)})")
    return frame


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """TREC qrels (``qid iter docid grade``); {} when the file is absent."""
    qrels: dict[str, dict[str, int]] = {}
    if not path.is_file():
        return qrels
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                qid, _, pid, grade = parts
                qrels.setdefault(qid, {})[pid] = int(grade)
            except ValueError:
                raise ReportInputError(f"{path}:{number}: expected 'qid iter docid grade', got {line.strip()!r}") from None
    return qrels


def read_config(path: Path) -> dict[str, Any]:
    """A Hydra config file resolved; unresolvable interpolations fall back to the raw values."""
    from omegaconf import OmegaConf  # noqa: PLC0415

    try:
        loaded = OmegaConf.load(path)
    except Exception as exc:  # omegaconf/yaml raise many kinds
        raise ReportInputError(f"{path}: not readable YAML ({exc})") from None
    try:
        data = OmegaConf.to_container(loaded, resolve=True)
    except Exception:  # e.g. an environment variable that is not set here
        data = OmegaConf.to_container(loaded, resolve=False)
    return data if isinstance(data, dict) else {}


def config_from_yaml(text: str) -> dict[str, Any]:
    """The resolved config recorded in run_info.json, for run directories without .hydra/."""
    import yaml  # noqa: PLC0415

    try:
        loaded = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def read_overrides(run_dir: Path) -> list[str]:
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return []
    import yaml  # noqa: PLC0415

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ReportInputError(f"{path}: not readable YAML ({exc})") from None
    return [str(o) for o in loaded] if isinstance(loaded, list) else []


def load_inputs(run_dir: Path, training_csv: Path | None = None) -> ReportInputs:
    """Read a run directory; a missing or malformed file raises ReportInputError naming it."""
    if not run_dir.is_dir():
        raise ReportInputError(f"{run_dir}: not a directory (expected a finished run directory)")
    hydra_path = run_dir / ".hydra" / "config.yaml"
    hydra_yaml = hydra_path.read_text(encoding="utf-8") if hydra_path.is_file() else ""
    config = read_config(hydra_path) if hydra_yaml else {}
    leaderboard = read_board(run_dir / "metrics.csv", required=True)
    per_query = read_csv(run_dir / "per_query.csv", required=True, dtype={"method": str, "query_id": str})
    assert leaderboard is not None and per_query is not None
    try:
        runs = {p.stem: read_run(p) for p in sorted((run_dir / "runs").glob("*.trec"))}
    except ValueError as exc:  # names file and line
        raise ReportInputError(str(exc)) from None
    qrels = read_qrels(run_dir / "qrels.trec")
    expansions = {p.stem: read_records(p, "query_id") for p in sorted((run_dir / "expansions").glob("*.jsonl"))}
    training_path = find_training_csv(run_dir, training_csv)
    info = load_run_info(run_dir, config, hydra_yaml)
    return ReportInputs(
        run_dir=run_dir, info=info, config=config or config_from_yaml(info.config_yaml),
        overrides=read_overrides(run_dir), leaderboard=leaderboard, per_query=per_query,
        expansion_board=rules_filled(read_board(run_dir / "expansion_metrics.csv", required=False)),
        stats=read_csv(run_dir / "stats.csv", required=False), abtest=read_csv(run_dir / "abtest.csv", required=False),
        expansions=expansions, runs=runs, qrels=qrels, products=read_products(run_dir / PRODUCTS_FILE),
        training=read_training(training_path), training_path=training_path,
        query_sets=read_query_sets(run_dir / "query_sets.json"),
        full_board=read_board(run_dir / "metrics_full.csv", required=False),
        pairs=read_csv(run_dir / "stats_pairs.csv", required=False),
    )


def read_query_sets(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None  # runs from before query sets were recorded
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReportInputError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("main"), dict):
        raise ReportInputError(f"{path}: expected an object with a 'main' query set")
    return loaded
