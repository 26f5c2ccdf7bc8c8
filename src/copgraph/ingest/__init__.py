"""Bringing outside data in: the sourced fact files converted to data/, and sector-audit spreadsheets imported as
observations."""
