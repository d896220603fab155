"""negsim: an agent-based simulator of multi-party negotiations with red lines."""

__version__ = "0.1.0"
