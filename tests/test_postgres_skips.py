"""A PostgreSQL test that cannot run says why, and in CI its skip is a failure."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

@pytest.mark.postgres
def test_needs_postgres():
    pytest.skip("PostgreSQL server binaries initdb and pg_ctl not found")

def test_other_skip():
    pytest.skip("not a database test")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["tests.databases"]\n')
    pytester.makeini("[pytest]\nmarkers =\n    postgres: needs PostgreSQL\n")
    pytester.makepyfile(test_db=SKIPPING)
    return pytester


def test_outside_ci_the_skip_names_the_missing_binaries(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest("-rs", "-p", "no:randomly")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*SKIPPED*initdb and pg_ctl not found*"])


def test_in_ci_a_skipped_postgresql_test_fails(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=1, skipped=1)  # other skips stay skips
    result.stdout.fnmatch_lines(["*CI=true, yet this PostgreSQL test was skipped*initdb*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
