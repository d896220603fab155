"""negsim: an agent-based simulator of multi-party negotiations with red lines.

The API the command line is built on::

    import sim
    scenario = sim.load_scenario("scenarios/baseline.yaml")
    df = sim.run_batch(scenario, runs=2_000)                 # in-process, a DataFrame
    sim.run_batch(scenario, "results/baseline")              # all cores, a results folder
    df = sim.load_results("results/baseline")
    summary = sim.summarize(df, scenario=scenario)
    model = sim.simulate(scenario, runs=1)                   # one negotiation, a Mesa model
    sim.run_table(model)                                     # its outcome as a table

Names are imported on first use, so ``import sim`` (and ``negsim --help``) stays quick.
"""

import importlib

__version__ = "0.1.0"

_API = {
    "load_scenario": ("sim.scenario.loader", "load"),
    "ScenarioError": ("sim.scenario.errors", "ScenarioError"),
    "NegotiationModel": ("sim.engine.model", "NegotiationModel"),
    "run_table": ("sim.engine.tables", "run_table"),
    "trajectory_table": ("sim.engine.tables", "trajectory_table"),
    "columns": ("sim.engine.columns", None),
    "run_batch": ("sim.batch.runner", "run_batch"),
    "simulate": ("sim.batch.runner", "simulate"),
    "load_results": ("sim.batch.runner", "load_results"),
    "load_trajectories": ("sim.batch.runner", "load_trajectories"),
    "ResultsError": ("sim.batch.errors", "ResultsError"),
    "summarize": ("sim.analysis.summary", "summarize"),
    "write_outputs": ("sim.briefing.outputs", "write_outputs"),
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    module, attr = _API[name]
    value = importlib.import_module(module)
    return value if attr is None else getattr(value, attr)


def __dir__():
    return sorted([*globals(), *_API])
