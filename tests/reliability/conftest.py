import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _mutant_copy_is_what_runs():
    """Under the mutation check, the statetui imported must be the mutated copy."""
    root = os.environ.get("STATETUI_EXPECT_ROOT")
    if root:
        import statetui

        assert os.path.realpath(statetui.__file__).startswith(os.path.realpath(root) + os.sep), \
            f"imported {statetui.__file__}, not the mutated copy under {root}"
