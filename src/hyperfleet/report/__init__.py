"""Exports and reports of searches."""
