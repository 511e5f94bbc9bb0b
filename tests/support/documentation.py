"""The documentation the tests hold to what the code does: README and docs/*.md."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = sorted((ROOT / "docs").glob("*.md"))
# README and every page of docs/, as one text: a block moved between them stays checked.
DOCS = "\n".join([README, *(page.read_text(encoding="utf-8") for page in PAGES)])
