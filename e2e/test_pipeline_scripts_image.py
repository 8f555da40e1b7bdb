"""The pipeline's scripts (preprocess.py, metrics.py, cleanup.py) run in SageMaker's scikit-learn 1.2-1
processing image: Python 3.8.13, numpy 1.24, Pillow only as multi-model-server's
dependency. A script that needs Python 3.9 or a module the image lacks fails there, at the
first run, after minutes of provisioning; here it fails first.

Each script must be valid Python 3.8 (vermin, plus the 3.8 grammar of `ast`) and import only
the modules in the committed allow-list beside the scripts. The last test breaks copies of a
script on purpose and expects each break to be caught."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[1] / "crates" / "loopline-engine" / "pipeline"
ALLOW_LIST = PIPELINE / "sklearn-1.2-1-modules.txt"
SCRIPTS = sorted(PIPELINE.glob("*.py"))
# vermin has no `python -m vermin`; its console script sits beside the venv's python.
VERMIN = str(Path(sys.executable).with_name("vermin"))


def allowed() -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in ALLOW_LIST.read_text().splitlines())
    return {line for line in lines if line}


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module the code imports: statements anywhere (inside functions too), and
    `importlib.import_module` / `__import__` with a literal name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A script runs alone in its code folder: there is no package to import from.
            found.append((node.lineno, "." * node.level + (node.module or "")))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def has_future_annotations(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
               for n in tree.body)


def problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    out = []
    try:
        tree = ast.parse(source, filename=str(path), feature_version=(3, 8))
    except SyntaxError as e:
        return [f"{path.name}:{e.lineno}: not Python 3.8 syntax: {e.msg}"]
    allow = allowed()
    for line, name in imported(tree):
        parts = name.split(".")
        if name.startswith(".") or not any(".".join(parts[:i]) in allow for i in range(1, len(parts) + 1)):
            out.append(f"{path.name}:{line}: imports {name}, which the scikit-learn 1.2-1 image does not have "
                       f"(see {ALLOW_LIST.name})")
    # Without `from __future__ import annotations`, Python 3.8 evaluates annotations when it
    # runs the `def`, so `list[int]` there fails at once: vermin then checks them too.
    flags = [] if has_future_annotations(tree) else ["--eval-annotations"]
    v = subprocess.run([VERMIN, "--target=3.8-", "--no-tips", "--violations",
                        "--no-parse-comments", *flags, str(path)], capture_output=True, text=True, timeout=120)
    if v.returncode != 0:
        out.append(f"{path.name}: vermin says it needs more than Python 3.8:\n{v.stdout}{v.stderr}")
    return out


def test_vermin_is_there():
    assert Path(VERMIN).exists(), f"{VERMIN} is missing: scripts/install.sh --test installs e2e/requirements.txt"
    v = subprocess.run([VERMIN, "--version"], capture_output=True, text=True, timeout=60)
    assert v.returncode == 0, (v.stdout, v.stderr)


def test_the_shipped_scripts_are_python_3_8_and_import_only_what_the_image_has():
    assert [p.name for p in SCRIPTS] == ["cleanup.py", "metrics.py", "preprocess.py"], SCRIPTS
    found = [p for s in SCRIPTS for p in problems(s)]
    assert found == [], "\n".join(found)


# Anchored on a line that does not change when the script's VERSION does.
ANCHOR = "CONTAINER = Path(\"/opt/ml/processing\")"
BREAKS = {
    "dict | dict": (ANCHOR, ANCHOR + "\nDEFAULTS = {\"a\": 1}\nMORE = DEFAULTS | {\"b\": 2}", "dict union"),
    "list[int] evaluated at runtime": ("from __future__ import annotations\n", "",
                                       "builtin generic type annotation"),
    "str.removeprefix": (ANCHOR, "CONTAINER = Path(\"/opt/ml/processing\".removeprefix(\"\"))", "removeprefix"),
    "match statement": (ANCHOR, ANCHOR + "\nmatch VERSION:\n    case _:\n        pass", "not Python 3.8 syntax"),
    "a module the image lacks": ("import argparse", "import argparse\nimport requests", "imports requests"),
    "a 3.9 stdlib module": ("import argparse", "import argparse\nfrom zoneinfo import ZoneInfo", "imports zoneinfo"),
    "an import inside a function": ("    a = parse_args(argv)", "    import tomllib\n    a = parse_args(argv)",
                                    "imports tomllib"),
    "import_module": ("import argparse", "import argparse\nimport importlib\nyaml = importlib.import_module(\"yaml\")",
                      "imports yaml"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_a_broken_copy_is_caught(tmp_path, name):
    old, new, expected = BREAKS[name]
    source = (PIPELINE / "preprocess.py").read_text(encoding="utf-8")
    assert old in source, f"the break '{name}' no longer applies to preprocess.py"
    broken = tmp_path / "preprocess.py"
    broken.write_text(source.replace(old, new, 1), encoding="utf-8")
    found = problems(broken)
    assert any(expected in p for p in found), f"{name}: {found}"


if __name__ == "__main__":
    # `python e2e/test_pipeline_scripts_image.py SCRIPT...` checks other copies the same way.
    found = [p for arg in sys.argv[1:] for p in problems(Path(arg))]
    print("\n".join(found) or "ok")
    sys.exit(1 if found else 0)
