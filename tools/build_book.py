"""`jupyter-book build`, with Sphinx reading (so executing) the notebooks in several processes.

    BOOK_JOBS=2 python tools/build_book.py build . --all --warningiserror --keep-going

The same command, options and configuration as `jupyter-book build` (Jupyter Book 1). Its command
line has no option for Sphinx's parallel build, which its own build function takes (`jobs`).
Sphinx hands each process a run of consecutive pages, so two processes keep both cores busy where
one notebook leaves a core idle (kernel start, Python, plotting). BOOK_JOBS=1 (the default)
builds exactly as `jupyter-book build` does; `make test`'s smoke build uses 2, `make book` 1.

Sphinx reads in parallel only when every extension declares it safe. Two of Jupyter Book's
default extensions declare nothing — Sphinx would then read serially, with a warning that
`--warningiserror` turns into a failure — and both are safe, for the reasons in UNDECLARED.
"""

import functools
import importlib
import os
import sys

import jupyter_book.sphinx
from jupyter_book.cli.main import main

UNDECLARED = {
    "sphinx_multitoc_numbering": "it replaces how section numbers are assigned, which Sphinx "
    "does once every page is read, in the main process; it keeps nothing per page",
    "sphinx_jupyterbook_latex": "its transforms change only the document tree of the page being "
    "read, and its events act only for a LaTeX builder (this book builds HTML)",
}


def declared_safe(setup):
    "An extension's `setup`, returning that it is safe to read and write pages in parallel."

    @functools.wraps(setup)
    def wrapped(app):
        metadata = setup(app) or {}
        return {**metadata, "parallel_read_safe": True, "parallel_write_safe": True}

    return wrapped


def build(argv: list[str]) -> None:
    "`jupyter-book ARGV` with BOOK_JOBS reading processes (default 1); exits with its status."
    jobs = int(os.environ.get("BOOK_JOBS", "1"))
    if jobs < 1:
        raise SystemExit(f"BOOK_JOBS must be a whole number ≥ 1, got {jobs}")
    for name in UNDECLARED:
        extension = importlib.import_module(name)
        extension.setup = declared_safe(extension.setup)
    # the command imports build_sphinx from this module when it runs, so it gets this one
    build_sphinx = jupyter_book.sphinx.build_sphinx
    jupyter_book.sphinx.build_sphinx = functools.partial(build_sphinx, jobs=jobs)
    main(argv)  # click's command: it exits the process with the build's status


if __name__ == "__main__":
    build(sys.argv[1:])
