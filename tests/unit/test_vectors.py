"""The JSON vectors in tests/vectors/ are read by this suite and by the JS suite."""

import json
from pathlib import Path

import pytest

from livewidget.protocol import merge, to_html
from tests.vectors import cases

VECTORS = sorted((Path(__file__).parents[1] / "vectors").glob("*.json"))


def test_the_generated_vectors_match_the_code():
    assert cases.GENERATED.read_text(encoding="utf-8") == cases.dump(), (
        "tests/vectors/generated.json is stale: run python -m tests.vectors.cases"
    )


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_merging_each_vector_builds_its_html(path: Path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["cases"]
    for case in data["cases"]:
        tree = None
        for number, step in enumerate(case["steps"]):
            tree = merge(tree, step["payload"])
            assert to_html(tree) == step["html"], f"{path.name}: {case['name']}, step {number}"
