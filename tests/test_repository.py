"""The repository itself: no merge left half-done."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("<<<<<<< ", ">>>>>>> ")


def test_no_file_holds_a_merge_conflict():
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    conflicted = []
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.suffix in {".png", ".ico", ".gz", ".woff2"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(line.startswith(MARKERS) for line in text.splitlines()):
            conflicted.append(name)
    assert conflicted == []
