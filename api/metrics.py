"""Prometheus metrics of one app (own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Request counts and latency by route template and status, model and match metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["method", "route", "status"]
        self.requests = Counter(
            "matcher_http_requests", "HTTP requests.", labels, registry=self.registry
        )
        self.latency = Histogram(
            "matcher_http_request_duration_seconds",
            "HTTP request latency.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model_info = Gauge(
            "matcher_model_info",
            "The served model version (value 1).",
            ["version"],
            registry=self.registry,
        )
        self.model_loaded = Gauge(
            "matcher_model_loaded", "1 when a model is being served.", registry=self.registry
        )
        self.match_status = Counter(
            "matcher_match_status",
            "Match responses by status.",
            ["status"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "matcher_model_reloads",
            "Model reloads by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.events = Counter(
            "matcher_events",
            "Outcome events by type and whether duplicate.",
            ["type", "duplicate"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def set_model(self, version: str | None) -> None:
        """Publish the served model version (None: nothing served)."""
        self.model_info.clear()
        if version is not None:
            self.model_info.labels(version).set(1)
        self.model_loaded.set(0 if version is None else 1)

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)


__all__ = ["Metrics"]
