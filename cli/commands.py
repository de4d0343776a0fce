"""Imports every command module so each registers its commands on the app."""

from cli import data, evaluate, experiments, fairness_report, keys, rank, serve, simulate, train

__all__ = [
    "data",
    "evaluate",
    "experiments",
    "fairness_report",
    "keys",
    "rank",
    "serve",
    "simulate",
    "train",
]
