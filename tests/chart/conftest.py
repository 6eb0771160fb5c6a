"""Fixtures of the chart tests: the chart rendered once per values file."""

from __future__ import annotations

import pytest

from .render import CHART, REPO_ROOT, Rendered, render


@pytest.fixture(scope="module")
def default() -> Rendered:
    return render()


@pytest.fixture(scope="module")
def production() -> Rendered:
    return render(CHART / "values-production.yaml")


@pytest.fixture(scope="module")
def all_features() -> Rendered:
    return render(REPO_ROOT / "tests" / "chart" / "values-all-features.yaml")
