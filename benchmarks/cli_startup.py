"""How long `gan-lessons --help` (and `train MODEL --help`) takes to answer, against another
revision of the package measured in the same run: both are timed in turn, many times, and the
medians and their ratio are printed (the machines are shared and noisy: only the ratio means much).

    .venv/bin/python benchmarks/cli_startup.py --against f152450 --repeats 20

The other revision is checked out into a temporary git worktree; both run on this venv's Python.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def seconds(root: Path, argv: list[str]) -> float:
    "Wall time of one `gan-lessons ARGV` with the package of `root`, in a fresh interpreter."
    code = (
        f"import sys; sys.argv = ['gan-lessons', *{argv!r}]; "
        "from gan_lessons.cli import main; main()"
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code], cwd=root, env={"PYTHONPATH": str(root)}, capture_output=True
    )
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", required=True, help="a git revision to compare with")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        other = Path(folder) / "other"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(other), args.against],
                       cwd=ROOT, check=True)  # fmt: skip
        try:
            times = {"other": [], "this": []}
            for _ in range(args.repeats):  # interleaved, so both see the same load
                times["other"].append(seconds(other, ["--help"]))
                times["this"].append(seconds(ROOT, ["--help"]))
            before, now = (statistics.median(times[key]) for key in ("other", "this"))
            print(
                f"gan-lessons --help: {args.against} {before * 1000:.0f} ms, this tree "
                f"{now * 1000:.0f} ms (medians of {args.repeats}); ratio {now / before:.2f}"
            )
            for argv in (["train", "--help"], ["train", "dcgan", "--help"]):
                median = statistics.median(seconds(ROOT, argv) for _ in range(args.repeats))
                print(f"gan-lessons {' '.join(argv)}: this tree {median * 1000:.0f} ms")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT)


if __name__ == "__main__":
    main()
