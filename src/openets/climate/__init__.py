"""Emissions to temperature: FaIR 2.2 with the shipped calibration (see model.py)."""
