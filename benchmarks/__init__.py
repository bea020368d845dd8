"""Benchmarks: what livewidget's performance claims rest on, each against baselines measured in
the same run. ``python -m benchmarks`` runs them all; see benchmarks/README.md."""
