"""The layout the course promises its readers: modules of one concern and readable size, exported
cells short enough to read between their checks, lesson 05 a loop first."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_CELL_LINES, MAX_MODULE_LINES = 50, 400


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_no_exported_cell_is_longer_than_fifty_lines():
    long = [
        f"{path.name} cell {cell['id']}: {len(_source(cell).splitlines())} lines"
        for path in sorted((ROOT / "nbs").glob("*.ipynb"))
        for cell in _cells(path)
        if cell["cell_type"] == "code"
        and _source(cell).startswith("#| export")
        and len(_source(cell).splitlines()) > MAX_CELL_LINES
    ]
    assert not long, "split these into documented pieces: " + "; ".join(long)


def test_no_module_is_longer_than_four_hundred_lines():
    exempt = {"_modidx.py"}  # the index nbdev writes
    long = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "gan_lessons").glob("*.py")
        if path.name not in exempt
    }
    assert all(lines <= MAX_MODULE_LINES for lines in long.values()), {
        name: lines for name, lines in long.items() if lines > MAX_MODULE_LINES
    }


def test_lesson_05_teaches_the_loop_first():
    cells = _cells(ROOT / "nbs" / "05_training.ipynb")
    exported = [cell for cell in cells if _source(cell).startswith("#| export")]
    first_step = next(cell for cell in exported if "def train_step(" in _source(cell))
    assert len(_source(first_step).splitlines()) <= 25
    training = next(
        index
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        and "train_step = make_train_step(" in _source(cell)
        or "step(" in _source(cell)
        and "for epoch in range" in _source(cell)
    )
    assert training < len(cells) / 4, f"the first training loop is cell {training} of {len(cells)}"
    prose = sum(
        len(re.findall(r"\S+", _source(cell))) for cell in cells if cell["cell_type"] == "markdown"
    )
    assert prose <= 1600, f"lesson 05 has {prose} words of prose"


# The package's floors, bottom to top. A module may import only modules below it (function-local
# imports included), so the code reads in lesson order and has no cycles. Reference pages sit at
# the floor of what they hold: page 89's files below everything, page 95's checkpoints below
# lesson 05 that saves them, page 98's corpora below lesson 11 that reads them.
BOTTOM = ("errors", "files")  # no TensorFlow
LESSONS = (
    "setup", "devices", "data", "images", "viz", "sound", "checkpoints", "generator", "explorers",
    "discriminator", "losses", "steps", "training", "evaluation", "recipes", "conditional",
    "wasserstein", "debugging", "corpora", "text", "planes", "audio",
    "audio_commands", "vae", "diffusion", "flow_commands", "augmentation", "transformer",
    "text_commands",
    "exercises", "exercises_foundations", "exercises_training", "exercises_variations",
    "exercises_beyond", "exercises_generated", "exercises_attention",
)  # fmt: skip
TOP = ("runs", "registry", "pretrained", "model_cards", "cli")  # the command layer and its tables
FLOORS = BOTTOM + LESSONS + TOP


def _package_imports(source: str) -> list[tuple[int, str, bool]]:
    "`(line, module, inside a function)` for every import of a `gan_lessons` module in `source`."
    import ast

    tree, found = ast.parse(source), []
    local = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from .module import name
                names = [node.module] if node.module else [alias.name for alias in node.names]
            elif node.module == "gan_lessons":
                names = [alias.name for alias in node.names]
            elif (node.module or "").startswith("gan_lessons."):
                names = [node.module.split(".")[1]]
            else:
                names = []
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("gan_lessons.")]
        else:
            continue
        found += [(node.lineno, name, id(node) in local) for name in names if name in FLOORS]
    return found


def layering_problems(sources: dict) -> list[str]:
    """Each import that reaches up (to a later lesson, or from a lesson to the top), and each
    function-local import with no reason next to it; `sources` maps module names to their code."""
    problems = []
    for module, source in sources.items():
        if module not in FLOORS:
            problems.append(f"{module}: not placed on a floor of FLOORS")
            continue
        lines = source.splitlines()
        for line, imported, _inside in _package_imports(source):
            if FLOORS.index(imported) >= FLOORS.index(module):
                problems.append(f"{module}:{line} imports {imported}, which is not below it")
        problems += _unexplained_local_imports(module, source, lines)
    return problems


def _unexplained_local_imports(module: str, source: str, lines: list[str]) -> list[str]:
    "A function-local import must say why (start-up time, an optional dependency) beside it."
    import ast

    problems = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in function.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            nearby = lines[node.lineno - 1 : node.end_lineno]
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            group = _import_group_start(lines, node.lineno)  # the reason may head the group
            if not any("#" in text for text in nearby) and not above.startswith("#") and not group:
                problems.append(
                    f"{module}:{node.lineno} imports inside a function without a reason"
                )
    return problems


def _import_group_start(lines: list[str], line: int) -> bool:
    "Whether an import at `line` follows, across blank lines, an import that carries a comment."
    index = line - 2
    while index >= 0 and lines[index].strip() == "":
        index -= 1
    while index >= 0 and lines[index].strip().startswith(("import ", "from ", ")", "    ")):
        text = lines[index].strip()
        if text.startswith(("import ", "from ")) and "#" in text:
            return True
        if not text.startswith(("import ", "from ")):
            index -= 1
            continue
        index -= 1
        while index >= 0 and lines[index].strip() == "":
            index -= 1
    return False


def _package_sources() -> dict:
    return {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "gan_lessons").glob("*.py"))
        if path.stem not in ("__init__", "_modidx")
    }


def test_every_import_reads_in_lesson_order_and_says_why_it_waits():
    assert layering_problems(_package_sources()) == []


def test_the_layering_check_catches_a_reversed_import_and_an_unexplained_wait():
    sources = _package_sources()
    reversed_import = dict(sources)
    reversed_import["training"] += "\nfrom gan_lessons.wasserstein import build_wgan\n"
    assert layering_problems(reversed_import) == [
        f"training:{len(reversed_import['training'].splitlines())} imports wasserstein, which is "
        "not below it"
    ]
    reaching_up = dict(sources)
    reaching_up["recipes"] += (
        "\n\ndef late():\n    from gan_lessons.registry import trainer  # why\n"
    )
    assert any(
        "recipes" in problem and "registry" in problem for problem in layering_problems(reaching_up)
    )
    silent = dict(sources)
    silent["losses"] += "\n\ndef late():\n    import json\n\n    return json\n"
    assert any("losses" in p and "without a reason" in p for p in layering_problems(silent))
    assert layering_problems({**sources, "newcomer": ""}) == [
        "newcomer: not placed on a floor of FLOORS"
    ]


def test_the_bottom_and_the_command_line_start_without_tensorflow():
    import subprocess
    import sys

    probe = (
        "import sys, gan_lessons.errors, gan_lessons.files, gan_lessons.registry, gan_lessons.cli; "
        "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))"
    )
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert answer.stdout.strip() == "[]", answer.stdout + answer.stderr


def test_each_lesson_notebook_exports_exactly_its_module():
    for path in sorted((ROOT / "nbs").glob("[0-9][0-9]_*.ipynb")):
        sources = [_source(cell) for cell in _cells(path) if cell["cell_type"] == "code"]
        targets = [s.split()[-1] for s in sources if s.startswith("#| default_exp")]
        if not targets:  # the appendix exports nothing
            continue
        assert len(targets) == 1, path.name
        elsewhere = [s.splitlines()[0] for s in sources if re.match(r"#\| export \S", s)]
        assert not elsewhere, f"{path.name} exports to another module: {elsewhere}"
        assert (ROOT / "gan_lessons" / f"{targets[0]}.py").is_file(), path.name


def parsed_arguments_in_lessons(sources: dict) -> list[str]:
    """Each place a module below the command layer (`TOP`) takes or reads the command line's
    parsed `args`: a parameter named `args`, or `args.something`."""
    import ast

    found = []
    for module, source in sources.items():
        if module in TOP:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                found += [f"{module}:{node.lineno} takes args" for a in names if a.arg == "args"]
            elif isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "args":
                found.append(f"{module}:{node.lineno} reads args.{node.attr}")
    return found


def test_no_lesson_takes_the_command_lines_parsed_arguments():
    assert parsed_arguments_in_lessons(_package_sources()) == []
    leaked = {"augmentation": "def evaluate_cas(model, args):\n    return args.n\n"}
    assert parsed_arguments_in_lessons(leaked) == [
        "augmentation:1 takes args",
        "augmentation:2 reads args.n",
    ]


def classes_assembled_after_the_fact(sources: dict) -> list[str]:
    "Module-level `Class.name = …` for a class the module defines: methods belong in it or @patch."
    import ast

    found = []
    for module, source in sources.items():
        tree = ast.parse(source)
        classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in (t for group in targets for t in getattr(group, "elts", [group])):
                if isinstance(target, ast.Attribute) and getattr(target.value, "id", "") in classes:
                    found.append(f"{module}:{node.lineno} {target.value.id}.{target.attr}")
    return found


def test_no_class_gets_methods_after_its_definition_and_no_settings_by_getattr():
    sources = _package_sources()
    assert classes_assembled_after_the_fact(sources) == []
    assert [name for name, source in sources.items() if "def __getattr__" in source] == []
    planted = {"text": sources["text"] + "\nCharVocabulary.size, CharVocabulary.x = len, len\n"}
    assert len(classes_assembled_after_the_fact(planted)) == 2
