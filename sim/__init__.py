"""negsim: an agent-based simulator of multi-party negotiations with red lines.

The API the command line is built on::

    import sim
    scenario = sim.load_scenario("scenarios/baseline.yaml")
    df = sim.run_batch(scenario, runs=2_000)                 # in-process, a DataFrame
    sim.run_batch(scenario, "results/baseline")              # all cores, a results folder
    df = sim.load_results("results/baseline")
    summary = sim.summarize(df, scenario=scenario)
"""

__version__ = "0.1.0"

from sim.engine import outcomes  # noqa: E402  (outcomes.table(model): a played model's runs as a DataFrame)
from sim.batch.runner import load_results, load_trajectories, run_batch, simulate  # noqa: E402
from sim.scenario.loader import ScenarioError, load as load_scenario  # noqa: E402
from sim.engine.model import NegotiationModel  # noqa: E402
from sim.briefing.outputs import write_outputs  # noqa: E402
from sim.batch.folder import ResultsError  # noqa: E402
from sim.analysis.summary import summarize  # noqa: E402

__all__ = ["NegotiationModel", "outcomes", "ResultsError", "ScenarioError", "load_results", "load_scenario",
           "load_trajectories", "run_batch", "simulate", "summarize", "write_outputs"]
