"""The API reference (docs/api/, built by mkdocstrings in ``mkdocs build --strict``) covers the
public API: every name of ``gan_zoo.__all__``, ``gan_zoo.contracts.__all__`` and
``gan_zoo.testing.__all__`` has a ``::: name`` block, and a docstring that names each of its
arguments, read the way mkdocstrings reads it (griffe, from the source)."""

from __future__ import annotations

import re
from pathlib import Path

import griffe
import pytest

import gan_zoo
import gan_zoo.contracts
import gan_zoo.testing

API_DOCS = Path(__file__).parent.parent.parent / "docs" / "api"
PACKAGES = (gan_zoo, gan_zoo.contracts, gan_zoo.testing)
ROOT = Path(gan_zoo.__file__).parent.parent


def directives() -> dict[str, str]:
    """``{public name: the object path of its ::: block}`` over every page of docs/api/."""
    found = {}
    for page in sorted(API_DOCS.glob("*.md")):
        for path in re.findall(r"^::: ([\w.]+)\s*$", page.read_text(), flags=re.M):
            found.setdefault(path, path)
    return found


def public_names() -> list[tuple[str, str]]:
    return [
        (package.__name__, name)
        for package in PACKAGES
        for name in package.__all__
        if not (name.startswith("__") and name.endswith("__"))  # __version__: in the intro
    ]


def documented_as(package: str, name: str) -> str | None:
    """The ``:::`` path that documents ``package.name``: itself, or the module it comes from
    (``gan_zoo.load`` is documented as ``gan_zoo.sampling.load``)."""
    for path in directives():
        if path == f"{package}.{name}" or (
            path.startswith(package + ".") and path.rsplit(".", 1)[1] == name
        ):
            return path
    return None


@pytest.fixture(scope="module")
def loader() -> griffe.Module:
    """The package as mkdocstrings sees it, loaded once: aliases resolve inside it."""
    return griffe.GriffeLoader(search_paths=[str(ROOT)]).load("gan_zoo")


def resolve(package: griffe.Module, path: str) -> griffe.Object:
    obj = package[path.split(".", 1)[1]] if "." in path else package
    return obj.final_target if isinstance(obj, griffe.Alias) else obj


def arguments(obj: griffe.Object) -> list[str]:
    """The arguments a caller passes: a function's parameters, a class's constructor's."""
    if obj.is_class:
        init = obj.members.get("__init__")
        params = init.parameters if init is not None else obj.parameters
    elif obj.is_function:
        params = obj.parameters
    else:
        return []
    return [
        p.name
        for p in params
        if p.name not in ("self", "cls")
        and p.kind not in (griffe.ParameterKind.var_positional, griffe.ParameterKind.var_keyword)
    ]


@pytest.mark.parametrize(("package", "name"), public_names())
def test_every_public_name_is_in_the_reference(package, name, loader):
    path = documented_as(package, name)
    assert path, f"{package}.{name} is missing from docs/api/: add '::: {package}.{name}'"
    obj = resolve(loader, path)
    docstring = obj.docstring.value if obj.docstring else ""
    assert docstring.strip(), f"{path} has no docstring"
    documented = docstring + "".join(
        member.docstring.value
        for member in obj.members.values()
        if not isinstance(member, griffe.Alias) and member.docstring
    )
    missing = [a for a in arguments(obj) if not re.search(rf"\b{a}\b", documented)]
    assert not missing, f"the docstring of {path} does not name its arguments {missing}"


def test_the_reference_documents_only_what_exists(loader):
    for path in directives():
        resolve(loader, path)  # a stale ::: block is a KeyError here (and a build error)
