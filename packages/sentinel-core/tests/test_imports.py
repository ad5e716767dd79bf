"""Tests of import targets and their install hints."""

from __future__ import annotations

import pytest

from sentinel.core import ImportTargetError, MissingDependencyError, import_target


def test_import_attribute() -> None:
    assert import_target("os.path:join").__name__ == "join"


def test_import_dotted_attribute() -> None:
    assert import_target("pathlib:Path.home").__name__ == "home"


@pytest.mark.parametrize("target", ["os.path", ":join", "os.path:"], ids=str)
def test_malformed_target(target: str) -> None:
    with pytest.raises(ImportTargetError, match=r"package\.module:attribute"):
        import_target(target)


def test_missing_attribute_named() -> None:
    with pytest.raises(ImportTargetError, match="no attribute 'nope'"):
        import_target("os.path:nope")


def test_missing_bundled_plugin_names_extra() -> None:
    with pytest.raises(MissingDependencyError) as caught:
        import_target("sentinel.nothere_plugin_x:thing")
    assert "sentinel_nothere_plugin_x" not in str(caught.value)
    assert "install the distribution" in str(caught.value)


def test_missing_extra_hint() -> None:
    from sentinel.core._imports import _install_hint

    message = _install_hint("sentinel.box._client:make_client", "sentinel.box")
    assert "pip install 'sentinel-core[box]'" in message
    assert "sentinel-box" in message


def test_missing_third_party_names_module() -> None:
    with pytest.raises(MissingDependencyError, match="'no_such_module_zz'"):
        import_target("no_such_module_zz.sub:thing")
