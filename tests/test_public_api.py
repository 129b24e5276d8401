"""The documented API: every subpackage in ``psychanalytics.__all__`` imports and documents what it exports."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import types

import pytest

import psychanalytics


@pytest.mark.parametrize("name", psychanalytics.__all__)
def test_each_public_subpackage_exports_documented_names(name):
    module = getattr(psychanalytics, name)
    assert module is importlib.import_module(f"psychanalytics.{name}")
    assert (module.__doc__ or "").strip(), f"psychanalytics.{name} has no docstring"
    exported = module.__all__
    assert exported, f"psychanalytics.{name} exports nothing"
    assert len(exported) == len(set(exported))
    for item in exported:
        assert not item.startswith("_"), f"psychanalytics.{name} exports the private {item}"
        value = getattr(module, item)  # AttributeError names what is listed but missing
        if inspect.isfunction(value) or inspect.isclass(value) or isinstance(value, types.ModuleType):
            assert (value.__doc__ or "").strip(), f"psychanalytics.{name}.{item} has no docstring"


def test_every_subpackage_of_the_package_is_listed_or_private():
    root = psychanalytics.__path__[0]

    public = {m.name for m in pkgutil.iter_modules([root]) if m.ispkg and not m.name.startswith("_")}
    assert public <= set(psychanalytics.__all__), public - set(psychanalytics.__all__)


def test_importing_the_package_loads_no_subpackage_until_one_is_used():
    code = (
        "import sys, psychanalytics; print(sorted(m for m in sys.modules if m.startswith('psychanalytics.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'screen'"):
        psychanalytics.screen  # noqa: B018
