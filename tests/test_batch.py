"""Batches: identical results for any block size, chunking, worker count or executor; resume."""

from __future__ import annotations

import distributed
import numpy as np
import pandas as pd
import pytest

import sim
from sim.batch.folder import ResultsError, chunk_path
from sim.batch.runner import load_results, run_batch
from sim.engine import tables

BASELINE = "scenarios/baseline.yaml"


@pytest.fixture(scope="module")
def baseline():
    return sim.load_scenario(BASELINE)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("run").reset_index(drop=True)


@pytest.mark.slow
def test_block_of_one_is_a_single_run_with_the_same_outcome(baseline):
    """A run's outcome depends on (seed, run) only: played alone or inside a block of 400."""
    block = tables.run_table(sim.NegotiationModel(baseline, range(400)).run())
    alone = pd.concat([tables.run_table(sim.NegotiationModel(baseline, [i]).run()) for i in range(0, 400, 7)])
    pd.testing.assert_frame_equal(_sorted(alone), _sorted(block.iloc[::7]), check_categorical=False)


@pytest.mark.slow
def test_block_of_one_gives_the_same_outcome_distribution(baseline):
    """Statistical check across independent runs: 300 single-run models vs one block of 3000 other runs."""
    singles = pd.concat([tables.run_table(sim.NegotiationModel(baseline, [10_000 + i]).run()) for i in range(300)])
    block = tables.run_table(sim.NegotiationModel(baseline, range(20_000, 23_000)).run())
    for outcome in ("declared", "collapse", "stalemate"):
        p1, p2 = (singles.outcome == outcome).mean(), (block.outcome == outcome).mean()
        pooled = (p1 * 300 + p2 * 3000) / 3300
        assert 0.01 < pooled < 0.99, f"{outcome}: {pooled:.3f}, too rare or too common to compare"
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / 300 + 1 / 3000))
        assert abs(z) < 4, f"{outcome}: {p1:.3f} alone vs {p2:.3f} in a block"


def test_same_seed_same_numbers_and_other_seed_other_numbers(baseline):
    a = run_batch(baseline, runs=500, seed=7)
    b = run_batch(baseline, runs=500, seed=7)
    c = run_batch(baseline, runs=500, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["outcome"].equals(c["outcome"])


@pytest.mark.parametrize("block_size", [1000, 333, pytest.param(64, marks=pytest.mark.slow)])
def test_any_chunking_gives_identical_results(baseline, tmp_path, block_size):
    reference = run_batch(baseline, runs=1000, seed=3)
    folder = run_batch(baseline, tmp_path / "r", runs=1000, seed=3, workers=1, block_size=block_size)
    pd.testing.assert_frame_equal(_sorted(load_results(folder)), _sorted(reference), check_categorical=False)


def test_worker_count_does_not_change_results(baseline, tmp_path):
    one = run_batch(baseline, tmp_path / "one", runs=3000, seed=11, workers=1, block_size=500)
    two = run_batch(baseline, tmp_path / "two", runs=3000, seed=11, workers=2, block_size=700)
    pd.testing.assert_frame_equal(load_results(one), load_results(two))


def test_dask_cluster_gives_the_local_results(baseline, tmp_path):
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        remote = run_batch(
            baseline, tmp_path / "dask", runs=2000, seed=5, scheduler=cluster.scheduler_address, block_size=300
        )
    local = run_batch(baseline, tmp_path / "local", runs=2000, seed=5, workers=1)
    pd.testing.assert_frame_equal(load_results(remote), load_results(local))


@pytest.mark.slow
def test_resume_finishes_an_interrupted_batch_exactly(baseline, tmp_path):
    full = load_results(run_batch(baseline, tmp_path / "full", runs=2500, seed=9, workers=1, block_size=400))
    folder = run_batch(baseline, tmp_path / "cut", runs=2500, seed=9, workers=1, block_size=400)
    for index in (1, 4):  # as if the batch had died before these blocks were written
        chunk_path(folder, "runs", index).unlink()
    chunk_path(folder, "runs", 6).write_bytes(b"PAR1 truncated")  # and mid-write of this one
    with pytest.raises(ResultsError, match="chunk-000001"):
        load_results(folder)
    run_batch(baseline, folder, runs=2500, seed=9, workers=1, resume=True)
    pd.testing.assert_frame_equal(load_results(folder), full)


def test_resume_refuses_a_different_batch(baseline, tmp_path):
    folder = run_batch(baseline, tmp_path / "r", runs=300, seed=1, workers=1)
    with pytest.raises(ResultsError, match="seed differs"):
        run_batch(baseline, folder, runs=300, seed=2, workers=1, resume=True)


def test_existing_results_are_not_overwritten_without_asking(baseline, tmp_path):
    folder = run_batch(baseline, tmp_path / "r", runs=300, workers=1)
    before = load_results(folder)
    with pytest.raises(ResultsError, match="already holds results"):
        run_batch(baseline, folder, runs=500, workers=1)
    pd.testing.assert_frame_equal(load_results(folder), before)
    run_batch(baseline, folder, runs=500, workers=1, overwrite=True)
    assert len(load_results(folder)) == 500


def test_trajectories_are_recorded_for_the_first_runs_only(baseline, tmp_path):
    folder = run_batch(baseline, tmp_path / "r", runs=600, workers=1, trajectories=5, block_size=200)
    traj = sim.load_trajectories(folder)
    assert sorted(traj["run"].unique()) == [0, 1, 2, 3, 4]
    assert set(traj["actor"]) == {a.id for a in baseline.actors}
    assert traj["round"].min() == 1


def test_resume_takes_runs_and_seed_from_the_interrupted_batch(baseline, tmp_path):
    folder = run_batch(baseline, tmp_path / "r", runs=900, seed=4, workers=1, block_size=300)
    full = load_results(folder)
    chunk_path(folder, "runs", 2).unlink()
    run_batch(baseline, folder, workers=1, resume=True)
    pd.testing.assert_frame_equal(load_results(folder), full)


def test_a_block_leaves_nothing_behind_for_the_next(baseline):
    """The model's reference cycles (Mesa's agents, events, data collector) held each block's arrays until
    Python's rare full collection: a worker grew by a block's worth of memory every few blocks."""
    import gc
    import weakref

    from sim.batch.executors import roomy_malloc

    gc.disable()  # as between the collector's rare full passes in a busy worker
    try:
        with roomy_malloc():
            model = sim.NegotiationModel(baseline, range(50)).run()
            played = weakref.ref(model)
            del model
        assert played() is None
    finally:
        gc.enable()


def _model_class_collectable_after_a_block(_) -> bool:
    import gc

    from sim.batch.executors import roomy_malloc
    from sim.engine.model import NegotiationModel

    with roomy_malloc():
        pass
    return any(o is NegotiationModel for o in gc.get_objects())


def test_a_worker_takes_its_imports_out_of_the_collectors_sight():
    """So that the collection after each block walks the block's own objects only (``gc.freeze``): what a worker
    imported before its first block is no longer among the objects the collector tracks."""
    from sim.batch.executors import executor

    pool = executor(workers=2, runs=10**6)
    try:
        tracked = list(pool.imap_unordered(_model_class_collectable_after_a_block, [(k,) for k in range(4)]))
    finally:
        pool.close()
    assert tracked == [False] * 4
