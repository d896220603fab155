"""An analysis that cannot be run as asked: one line says why (the command line prints it and exits with 2)."""


class AnalysisError(ValueError):
    """An analysis that cannot be run as asked (the message is one line saying why)."""
