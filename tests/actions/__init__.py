"""Tests of openets.actions."""
