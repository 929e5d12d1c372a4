"""The dependencies run one way (the contracts under ``[tool.importlinter]`` in
pyproject.toml): mailing knows no domain, discovery depends on listings and not the other way,
digests and the E-magazine sit on mailing and discovery, the ``search`` library imports
neither Flask nor the marketplace, and the web never imports the workers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache",
                "--config", "pyproject.toml"]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT_IMPORTS, cwd=tree, env={"PYTHONPATH": str(tree), "PATH": ""},
                          capture_output=True, text=True, timeout=300)


def test_the_code_keeps_every_import_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_wrong_import_breaks_a_contract(tmp_path):
    """The check can fail: a copy of the code whose mailing layer imports a domain."""
    for name in ("marketplace", "search", "workers"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "translations", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "marketplace" / "mailing" / "wrong.py").write_text(
        "from marketplace.digests import content  # noqa: F401\n")

    result = _lint_imports(tmp_path)

    assert result.returncode == 1
    assert "Mailing knows no domain BROKEN" in result.stdout
    assert "marketplace.mailing.wrong -> marketplace.digests.content" in result.stdout
