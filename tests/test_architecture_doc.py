"""docs/architecture.md stays true to the code: its paths exist, its dotted names resolve, and no source
file cites a map outside the repository."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
TEXT = DOC.read_text(encoding="utf-8")
OUR_PACKAGES = ("config", "governance", "assessments", "robustness")


def _layout_paths() -> list[str]:
    """The paths of the Layout block: every file on its first line, then the folder that opens each entry."""
    block = TEXT.split("## Layout", 1)[1].split("```", 2)[1]
    lines = [line for line in block.splitlines() if line.strip()]
    return lines[0].split() + [line.split()[0] for line in lines[1:] if not line.startswith(" ")]


def _backticked() -> list[str]:
    return re.findall(r"`([^`\s]+)`", TEXT)


def _dotted_names() -> list[str]:
    pattern = re.compile(rf"^(?:{'|'.join(OUR_PACKAGES)})(?:\.[A-Za-z_]\w*)+$")
    return sorted({name for name in _backticked() if pattern.match(name)})


def _file_paths() -> list[str]:
    """Backticked repository paths (files and folders); var/ is made at run time and left out."""
    return sorted({name for name in _backticked() if "/" in name and not name.startswith(("/", "var/"))
                   and re.match(r"^[\w./-]+$", name)})


def _resolve(name: str) -> object:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(name)


def test_the_layout_names_only_what_exists():
    paths = _layout_paths()
    assert {"manage.py", "config/", "robustness/engine/", "assessments/reporting/", "static/"} <= set(paths)
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert missing == []


def test_every_top_level_folder_of_ours_is_on_the_map():
    folders = {"templates", "tests", "benchmarks", "docs", "static"}
    ours = {f"{path.name}/" for path in ROOT.iterdir()
            if path.is_dir() and ((path / "__init__.py").exists() or path.name in folders)}
    assert ours - set(_layout_paths()) == set()


@pytest.mark.parametrize("name", _dotted_names())
def test_every_dotted_name_resolves(name):
    assert _resolve(name) is not None


def test_the_map_names_the_seam_functions_of_a_run():
    names = set(_dotted_names())
    assert len(names) >= 30
    assert {"robustness.services.run_requests.evaluation_run_request", "governance.jobs.job_claim",
            "governance.thresholds.thresholds_judge", "governance.authz.access_of"} <= names


def test_every_file_path_it_cites_exists():
    paths = _file_paths()
    assert "config/settings/base.py" in paths and "tests/test_architecture_doc.py" in paths
    missing = [path for path in paths if not ((ROOT / path).exists() or (DOC.parent / path).exists())]
    assert missing == []


def test_no_source_file_cites_a_map_outside_the_repository():
    outside = re.compile("|".join(re.escape(s) for s in ("ARCHITECTURE" + ".md", "STYLE" + ".md", "../" + "shared",
                                                           "shared/" + "reference")))
    citing = [str(path.relative_to(ROOT)) for folder in (*OUR_PACKAGES, "templates", "tests", "benchmarks", "docs")
              for path in (ROOT / folder).rglob("*") if path.suffix in {".py", ".html", ".md"}
              and outside.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert citing == []
