"""Every notebook's Colab badge and bootstrap cell, derived from settings.ini (repository, branch,
version).

    python tools/colab.py          # check: list what differs, exit 1 if anything does
    python tools/colab.py --fix    # write the expected badge and bootstrap cell into every notebook

The bootstrap cell installs the package at the version in settings.ini (the tag v<version>), so a
notebook opened in Colab runs against the code it was written for, and leaves Colab's preinstalled
TensorFlow alone."""

import json
import sys
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BOOTSTRAP_ID = "colab-setup"


def settings() -> dict:
    config = ConfigParser(delimiters=["="])
    config.read(ROOT / "settings.ini", encoding="utf-8")
    return dict(config["DEFAULT"])


def colab_url(notebook: str, cfg: dict | None = None) -> str:
    cfg = cfg or settings()
    return f"https://colab.research.google.com/github/{cfg['user']}/{cfg['repo']}/blob/{cfg['branch']}/{cfg['nbs_path']}/{notebook}"


def badge(notebook: str, cfg: dict | None = None) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook, cfg)})"


def bootstrap_source(cfg: dict | None = None) -> str:
    cfg = cfg or settings()
    version, package = cfg["version"], cfg["repo"]
    return f'''# Colab: install this notebook's version of the course (Colab's TensorFlow stays).
# Locally, `make book` or `pip install -e .` has installed it already.
import importlib
import importlib.metadata
import subprocess
import sys

if "google.colab" in sys.modules:
    try:
        installed = importlib.metadata.version("{package}")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != "{version}":
        source = "{package} @ git+{cfg["git_url"]}@v{version}"
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
        importlib.invalidate_caches()'''


def notebooks() -> list:
    return sorted((ROOT / "nbs").glob("*.ipynb"))


def problems_of(path: Path, cfg: dict) -> list:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = []
    title = "".join(cells[0]["source"]) if cells and cells[0]["cell_type"] == "markdown" else ""
    if badge(path.name, cfg) not in title:
        found.append(f"{path.name}: the first cell lacks the badge {badge(path.name, cfg)}")
    if sum(BADGE_IMAGE in "".join(cell["source"]) for cell in cells) != 1:
        found.append(f"{path.name}: expected exactly one Colab badge")
    setup = [cell for cell in cells if cell.get("id") == BOOTSTRAP_ID]
    if len(setup) != 1 or "".join(setup[0]["source"]) != bootstrap_source(cfg):
        found.append(
            f"{path.name}: the bootstrap cell ({BOOTSTRAP_ID}) is missing or differs from "
            "tools/colab.py"
        )
    elif "remove-cell" not in setup[0].get("metadata", {}).get("tags", []):
        found.append(
            f"{path.name}: the bootstrap cell must be tagged remove-cell (hidden on the site)"
        )
    elif cells.index(setup[0]) != _bootstrap_index(
        [cell for cell in cells if cell is not setup[0]]
    ):
        found.append(
            f"{path.name}: the bootstrap cell must come right after the title (and the default_exp "
            "cell)"
        )
    return found


def _bootstrap_index(cells) -> int:
    """Where the bootstrap cell goes: after the title cell and, when there is one, the `#|
    default_exp` cell."""
    has_default_exp = len(cells) > 1 and "".join(cells[1]["source"]).startswith("#| default_exp")
    return 2 if has_default_exp else 1


def fix(path: Path, cfg: dict) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook["cells"]
    title = cells[0]
    lines = [line for line in "".join(title["source"]).split("\n") if BADGE_IMAGE not in line]
    while lines and not lines[-1].strip():
        lines.pop()
    title["source"] = _lines(
        "\n".join(lines[:1] + ["", badge(path.name, cfg)] + lines[1:]).replace("\n\n\n", "\n\n")
    )
    cells[:] = [
        cell
        for cell in cells
        if cell.get("id") != BOOTSTRAP_ID
        and not "".join(cell["source"]).startswith("# Colab: install the course package")
    ]
    cells.insert(
        _bootstrap_index(cells),
        {
            "cell_type": "code",
            "execution_count": None,
            "id": BOOTSTRAP_ID,
            "metadata": {"tags": ["remove-cell"]},  # run in Colab and by the book, never shown
            "outputs": [],
            "source": _lines(bootstrap_source(cfg)),
        },
    )
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _lines(text: str) -> list:
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def main(argv) -> int:
    cfg = settings()
    if "--fix" in argv:
        for path in notebooks():
            fix(path, cfg)
    problems = [problem for path in notebooks() for problem in problems_of(path, cfg)]
    print(
        "\n".join(problems)
        if problems
        else f"colab: {len(notebooks())} notebooks have the badge and bootstrap cell"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
