"""What lab 3's checks read: the metrics an execution's EMF records carry."""

from __future__ import annotations

from collections import Counter
from typing import Any

OUTCOME_METRICS = ("OrderCompleted", "OrderCompensated", "OrderRejected")


def metric_points(run: Any) -> list[tuple[int, str, float, dict[str, Any]]]:
    """(invocation number, metric name, value, record) for every metric value emitted."""
    points = []
    for number, records in enumerate(run.emf_records(), start=1):
        for record in records:
            for directive in record["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    values = record.get(metric["Name"])
                    for value in values if isinstance(values, list) else [values]:
                        points.append((number, metric["Name"], float(value), record))
    return points


def totals(run: Any) -> Counter[str]:
    counter: Counter[str] = Counter()
    for _, name, value, _ in metric_points(run):
        counter[name] += value
    return counter
