"""The import rules of ARCHITECTURE.md, checked on the source (every import statement,
those inside functions too): layers import inward only, the core imports NumPy alone,
heavy libraries stay in the modules of their extra, and no file is read with pickle."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "digitnet"

#: Each part of the package (its top-level module or sub-package) and its layer: a
#: part may import parts of its own layer or of layers below, never above.
LAYERS = {
    "_version": 0, "errors": 0, "nn": 0,
    "data": 1, "io": 1,
    "train": 2, "checkpoint": 2, "recipes": 2, "training": 2, "pretrained": 2, "read": 2,
    "reading": 2, "onnx": 2, "plots": 2, "sklearn": 2, "batch": 2, "calibration": 2,
    "": 3, "web": 3,  # "": the package itself, digitnet/__init__.py (the public API)
    "cli": 4, "__main__": 4,
}
#: Parts that may import the package itself (``from .. import x``, x not a module):
#: any other doing so would close a cycle, as io -> digitnet -> io once did.
MAY_IMPORT_THE_PACKAGE = {"", "cli", "web", "__main__"}
#: Third-party libraries and the only parts that may import them (none of them at all:
#: PyTorch is never a dependency). NumPy and the standard library are everyone's.
THIRD_PARTY = {
    "PIL": {"data", "read", "reading", "web", "cli", "plots", "", "batch"},
    "tqdm": {"cli"},
    "threadpoolctl": {"train", "training", "cli", "web", "batch"},
    "dask": {"batch"}, "distributed": {"batch"}, "pyarrow": {"batch"}, "fsspec": {"batch"},
    "pandas": {"batch"},
    "fastapi": {"web"}, "starlette": {"web"}, "uvicorn": {"web", "cli"},
    "gunicorn": {"web", "cli"}, "multipart": {"web"}, "python_multipart": {"web"},
    "sklearn": {"sklearn"}, "onnx": {"onnx", "cli"}, "onnxruntime": {"onnx"},
    "matplotlib": {"plots", "cli"}, "torch": set(),  # cli: whether the extra is installed
    "pillow_heif": {"data"},  # frontend/decode.py, when a HEIC file comes
}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield path, parts


def part_of(parts):
    return parts[0] if parts else ""


def imports(path, parts):
    """(imported digitnet module parts or None, top-level name, line) for each import."""
    package = parts if path.name == "__init__.py" else parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name.split(".")
                yield (tuple(name[1:]) if name[0] == "digitnet" else None), name[0], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = (*base, *(node.module.split(".") if node.module else ()))
            elif (node.module or "").split(".")[0] == "digitnet":
                target = tuple(node.module.split(".")[1:])
            else:
                yield None, (node.module or "").split(".")[0], node.lineno
                continue
            if target:
                yield target, "digitnet", node.lineno
            else:  # from the package itself: its modules, or names it defines
                for alias in node.names:
                    is_module = any(PACKAGE.joinpath(alias.name + suffix).exists()
                                    for suffix in (".py", "/__init__.py"))
                    yield ((alias.name,) if is_module else ()), "digitnet", node.lineno


def violations(rule):
    found = []
    for path, parts in modules():
        here = part_of(parts)
        for target, top, line in imports(path, parts):
            problem = rule(here, target, top)
            if problem:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {problem}")
    return found


def test_every_part_of_the_package_has_a_layer():
    unknown = {part_of(parts) for _, parts in modules()} - set(LAYERS)
    assert not unknown, (f"new parts {sorted(unknown)}: give each a layer here and a line in "
                         "ARCHITECTURE.md's code map")


def test_layers_import_inward_only():
    def rule(here, target, top):
        if target is None:
            return None
        there = part_of(target)
        if there in LAYERS and LAYERS[there] > LAYERS.get(here, -1):
            return f"{here or 'digitnet'} (layer {LAYERS.get(here)}) imports {there or 'digitnet'} " \
                   f"(layer {LAYERS[there]})"
        return None

    assert violations(rule) == []


def test_the_core_imports_numpy_and_itself_only():
    allowed = set(sys.stdlib_module_names) | {"numpy", "digitnet"}

    def rule(here, target, top):
        if here != "nn":
            return None
        if target is not None and part_of(target) != "nn":
            return f"nn imports digitnet.{'.'.join(target)}"
        return None if top in allowed or top == "" else f"nn imports {top}"

    assert violations(rule) == []


def test_only_the_outer_layers_import_the_package_itself():
    def rule(here, target, top):
        if target == () and here not in MAY_IMPORT_THE_PACKAGE:
            return f"{here} imports the package digitnet itself (import from the module instead)"
        return None

    assert violations(rule) == []


def test_heavy_libraries_stay_in_the_modules_of_their_extra():
    def rule(here, target, top):
        if target is None and top in THIRD_PARTY and here not in THIRD_PARTY[top]:
            return f"{here or 'digitnet'} imports {top}"
        return None

    assert violations(rule) == []


def test_no_file_is_read_with_pickle():
    found = []
    for path, _ in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("pickle", "dill", "joblib", "marshal") for n in names):
                    found.append(f"{path.name}:{node.lineno}: imports a pickle module")
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "load" \
                    and getattr(node.func.value, "id", None) == "np":
                pickle = [k for k in node.keywords if k.arg == "allow_pickle"]
                if not pickle or not (isinstance(pickle[0].value, ast.Constant)
                                      and pickle[0].value.value is False):
                    found.append(f"{path.name}:{node.lineno}: np.load without allow_pickle=False")
    assert found == []


@pytest.mark.parametrize("rule", [test_layers_import_inward_only,
                                  test_heavy_libraries_stay_in_the_modules_of_their_extra])
def test_the_rules_catch_a_violation(rule, monkeypatch):
    """The checks above can fail: an inner layer importing the CLI, and the core
    importing a web framework, are caught."""
    real = imports

    def with_bad_import(path, parts):
        yield from real(path, parts)
        if parts == ("nn", "layers"):
            yield ("cli",), "digitnet", 1
            yield None, "fastapi", 1

    monkeypatch.setitem(globals(), "imports", with_bad_import)
    with pytest.raises(AssertionError):
        rule()
