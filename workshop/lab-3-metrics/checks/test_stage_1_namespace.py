"""Stage 1: metrics carry the right namespace, service and dimensions."""

from __future__ import annotations


from emf import metric_points


def test_every_metric_has_namespace_workshop_and_service_dimension(in_process_run):
    points = metric_points(in_process_run)
    assert points, "expected EMF metric records in the function's output; saw none"
    for number, name, _, record in points:
        directive = record["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "Workshop", (
            f"expected namespace \"Workshop\"; {name} in invocation {number} has namespace {directive['Namespace']!r}"
        )
        dimensions = {d for group in directive.get("Dimensions", []) for d in group}
        assert "service" in dimensions and record.get("service") == "order-saga", (
            f"expected the dimension service=order-saga; {name} in invocation {number} has dimensions "
            f"{ {d: record.get(d) for d in dimensions} }"
        )
