"""``matcher simulate`` (SPEC §7): the closed loop, a synthetic world played against a running
service over HTTP (docs/closed-loop.md).

:mod:`.service` talks to (or starts) the service, :mod:`.rounds` plays one round, :mod:`.table`
prints, :mod:`.command` is the typer command; the world's side is :mod:`synth.loop`.
"""

from cli.simulate.command import simulate
from cli.simulate.rounds import Plan, RoundRow, post_events, serve_round
from cli.simulate.service import Service, ServiceError
from cli.simulate.table import experiment_lines

__all__ = [
    "Plan",
    "RoundRow",
    "Service",
    "ServiceError",
    "experiment_lines",
    "post_events",
    "serve_round",
    "simulate",
]
