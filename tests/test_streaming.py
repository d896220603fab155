"""The summary streamed: a results folder summarised chunk by chunk, from counts that add up, gives the numbers
the whole table gives; quantiles from counts are numpy's; and a results folder reads as one dataset in pandas,
polars and DuckDB."""

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.analysis import quantiles, summary, tally
from sim.analysis.quantiles import Agreed
from sim.analysis.tally import Tally, frame_chunks
from sim.batch.folder import ResultsError, chunk_path, read_meta
from sim.batch.runner import load_results, run_batch

ROOT = Path(__file__).resolve().parents[1]
RUNS, BLOCK = 3000, 250


@pytest.fixture(scope="module")
def scenario():
    return sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture(scope="module")
def folder(scenario, tmp_path_factory) -> Path:
    """A results folder of 3,000 baseline runs in twelve chunks."""
    return run_batch(scenario, tmp_path_factory.mktemp("r") / "r", runs=RUNS, workers=1, block_size=BLOCK)


def dumped(result: dict) -> str:
    return json.dumps(result, indent=2, default=float)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_folder_summarised_chunk_by_chunk_equals_the_summary_of_its_whole_table(scenario, folder, workers):
    meta = read_meta(folder)
    streamed, counts = summary.summarize_folder(folder, meta, scenario, workers=workers)
    whole = summary.summarize(load_results(folder), meta, scenario)
    assert dumped(streamed) == dumped(whole)  # every number, to the last bit, and in the same order
    assert counts.n == RUNS and streamed["runs"] == RUNS


def test_counts_of_parts_add_up_to_the_counts_of_the_whole(scenario, folder):
    df = load_results(folder)
    parts = [tally.tally_runs(df.iloc[a : a + 700], scenario) for a in range(0, RUNS, 700)]
    total = parts[0]
    for part in parts[1:]:
        total.merge(part)
    whole = tally.tally_runs(df, scenario)
    assert dumped(summary.summarize_counts(total, frame_chunks(df), {}, scenario)) == dumped(
        summary.summarize_counts(whole, frame_chunks(df), {}, scenario)
    )
    assert total.blockers == whole.blockers and list(total.blockers) == list(whole.blockers)  # first appearances


def test_the_summary_reads_only_the_columns_it_needs(folder):
    every = list(pd.read_parquet(chunk_path(folder, "runs", 0)).columns)
    columns = tally.summary_columns(every)
    assert "outcome" in columns and not any(c.startswith(("param.", "pressure.", "budget.")) for c in columns)
    assert len(columns) < len(every) / 2


def test_a_corrupt_chunk_is_named_when_the_folder_is_summarised(scenario, folder, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in folder.rglob("*"):
        if path.is_file():
            (broken / path.relative_to(folder)).parent.mkdir(parents=True, exist_ok=True)
            (broken / path.relative_to(folder)).write_bytes(path.read_bytes())
    chunk = chunk_path(broken, "runs", 5)
    chunk.write_bytes(chunk.read_bytes()[:300])
    with pytest.raises(ResultsError, match=f"{chunk}: corrupt or truncated chunk"):
        summary.summarize_folder(broken, read_meta(broken), scenario, workers=2)


values_ = st.lists(
    st.one_of(st.floats(0, 100, allow_nan=False), st.sampled_from([0.0, 30.0, 60.0, 100.0, 49.999, 50.0])),
    min_size=1,
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(values=values_, cuts=st.lists(st.integers(0, 300), max_size=4))
def test_quantiles_and_median_from_fine_bins_are_numpys_exactly(values, cuts):
    values = np.array(values)
    agreed = Agreed()
    for part in np.split(values, sorted(c for c in cuts if c <= len(values))):
        piece = Agreed()
        piece.add(np.ones(len(part), dtype=np.int64), part)
        agreed.merge(piece)
    found = values[np.isin(quantiles.value_bin(values), agreed.unsettled())]
    expected = np.quantile(values, [q for _, q in quantiles.VALUE_QUANTILES])
    assert list(agreed.quantiles(found).values()) == expected.tolist()
    assert agreed.median(found) == float(np.median(values))


@given(rounds=st.lists(st.integers(0, 60), min_size=1, max_size=200), offset=st.integers(-20, 20))
def test_quartiles_and_medians_of_counted_rounds_are_numpys(rounds, offset):
    rounds = np.array(rounds)
    got = quantiles.quartiles(quantiles.histogram(rounds))
    for key, q in quantiles.QUARTILES:
        assert got[key] == float(np.quantile(rounds, q, method="inverted_cdf"))
    assert quantiles.median_of_counts(quantiles.histogram(rounds), offset) == float(np.median(rounds + offset))


def test_a_tally_is_empty_of_agreements_where_none_was_reached():
    agreed = Agreed()
    assert agreed.n == 0 and agreed.density() is None and agreed.unsettled().size == 0
    assert all(np.isnan(v) for v in agreed.quantiles(np.zeros(0)).values())
    assert Tally(horizon=5).on_bound_share("anything") == 0.0


# ------------------------------------------------------------------ one dataset, three readers
def expected_counts(folder: Path) -> dict[str, int]:
    return load_results(folder, columns=["outcome"])["outcome"].value_counts().astype(int).to_dict()


def test_pandas_reads_a_results_folder_as_one_dataset(folder):
    df = pd.read_parquet(folder / "runs")
    assert sorted(df["run"]) == list(range(RUNS))
    assert df["outcome"].astype(str).value_counts().to_dict() == expected_counts(folder)


def test_polars_reads_a_results_folder_as_one_dataset(folder):
    runs = pl.scan_parquet(folder / "runs" / "*.parquet")
    got = runs.group_by("outcome").agg(pl.len()).collect()
    assert dict(zip(got["outcome"].cast(pl.String), got["len"], strict=True)) == expected_counts(folder)
    ids = runs.select(pl.col("run").sort()).collect()["run"].to_list()
    assert ids == list(range(RUNS))


def test_duckdb_reads_a_results_folder_as_one_dataset(folder):
    pattern = str(folder / "runs" / "*.parquet")
    with duckdb.connect() as db:
        rows = db.execute(f"select outcome, count(*) from read_parquet('{pattern}') group by outcome").fetchall()
        n, distinct, low, high = db.execute(
            f"select count(*), count(distinct run), min(run), max(run) from read_parquet('{pattern}')"
        ).fetchone()
    assert {str(o): k for o, k in rows} == expected_counts(folder)
    assert (n, distinct, low, high) == (RUNS, RUNS, 0, RUNS - 1)
