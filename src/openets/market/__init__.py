"""Simulation: supply-demand balance (and, later, prices and agents)."""
