"""Monte Carlo batches: the runner, its executors, and the results folder."""
