"""Imports every command module so each registers its commands on the app."""

from cli import data, fairness_report, keys, rank, serve, train

__all__ = ["data", "fairness_report", "keys", "rank", "serve", "train"]
