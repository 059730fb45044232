"""The Prometheus text format, compared as whole outputs."""

from __future__ import annotations

from api.services.metrics import Metric, Sample, render


def test_families_render_help_type_and_samples() -> None:
    metrics = [
        Metric("x_total", "counter", "Things.", [Sample(3, (("outcome", "live"),)), Sample(0.5)]),
        Metric(
            "x_seconds",
            "histogram",
            "Durations.",
            [
                Sample(1, (("le", "5"),), "_bucket"),
                Sample(2, (("le", "+Inf"),), "_bucket"),
                Sample(12.25, suffix="_sum"),
                Sample(2, suffix="_count"),
            ],
        ),
    ]

    assert render(metrics) == (
        "# HELP x_total Things.\n"
        "# TYPE x_total counter\n"
        'x_total{outcome="live"} 3\n'
        "x_total 0.5\n"
        "# HELP x_seconds Durations.\n"
        "# TYPE x_seconds histogram\n"
        'x_seconds_bucket{le="5"} 1\n'
        'x_seconds_bucket{le="+Inf"} 2\n'
        "x_seconds_sum 12.25\n"
        "x_seconds_count 2\n"
    )


def test_label_values_and_help_are_escaped() -> None:
    metric = Metric("x", "gauge", "A \\ and\na newline.", [Sample(float("inf"), (("k", 'a"b\\c\nd'),))])

    assert render([metric]) == (
        "# HELP x A \\\\ and\\na newline.\n# TYPE x gauge\n" + 'x{k="a\\"b\\\\c\\nd"} +Inf\n'
    )
