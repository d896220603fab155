"""Briefing material: figures, the summary and figures of a results folder, and the report."""
