"""What can go wrong around a batch, as exceptions whose message is one line naming the path or address."""


class ResultsError(Exception):
    """A results folder that cannot be used as asked; the message names the path and the problem."""


class SchedulerError(Exception):
    """A Dask scheduler that cannot be reached; the message names the address."""
