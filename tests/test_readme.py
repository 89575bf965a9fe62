"""The README's command synopses say what `--help` says: every flag they show exists, and the
synopses of the main commands show every flag the command has."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from provenance.cli import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"
#: Commands whose synopsis must list every option (the others may show only a usage example).
COMPLETE = {
    ("keys", "init"),
    ("sign",),
    ("sign-text",),
    ("text-key",),
    ("verify",),
    ("watermark", "detect"),
    ("watermark", "embed"),
    ("inspect",),
    ("trust", "show"),
    ("trust", "update"),
    ("serve",),
}
_COMMAND = re.compile(r"^(?:uv run )?provenance ((?:[a-z][\w-]* ?)+)")
_FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _synopses() -> list[tuple[tuple[str, ...], set[str], int]]:
    """(command words, flags shown, README line) for each command line in a fenced block,
    continuation lines (indented) included; comments after '#' left out."""
    found: list[tuple[tuple[str, ...], set[str], int]] = []
    in_block = False
    for number, raw in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if raw.startswith("```"):
            in_block = not in_block
            continue
        line = raw.split("#", 1)[0]
        if not in_block or not line.strip():
            continue
        match = _COMMAND.match(line)
        if match:
            parser, words = build_parser(), list[str]()
            for word in match.group(1).split():
                choices = _subparsers(parser)
                if word not in choices:
                    break
                parser, words = choices[word], [*words, word]
            found.append((tuple(words), set(_FLAG.findall(line[match.end() :])), number))
        elif found and raw.startswith(" ") and found[-1][2] == number - 1:
            command, flags, _ = found.pop()
            found.append((command, flags | set(_FLAG.findall(line)), number))
    return found


def _options(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Each option of the command, with all its spellings (-o, --output)."""
    parser = build_parser()
    for word in words:
        parser = _subparsers(parser)[word]
    return [
        tuple(action.option_strings)
        for action in parser._actions
        if action.option_strings and "--help" not in action.option_strings
    ]


SYNOPSES = _synopses()


@pytest.mark.parametrize(("words", "flags", "line"), SYNOPSES, ids=[str(s[2]) for s in SYNOPSES])
def test_every_flag_shown_exists(words: tuple[str, ...], flags: set[str], line: int) -> None:
    known = {spelling for option in _options(words) for spelling in option}
    assert flags <= known, f"README line {line}: `provenance {' '.join(words)}`"


@pytest.mark.parametrize("words", sorted(COMPLETE))
def test_main_synopses_show_every_flag(words: tuple[str, ...]) -> None:
    shown = set().union(*(flags for w, flags, _ in SYNOPSES if w == words))
    missing = [option[-1] for option in _options(words) if not shown & set(option)]
    assert not missing, f"`provenance {' '.join(words)}` synopsis lacks {missing}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_contents_link_names_a_heading() -> None:
    text = README.read_text(encoding="utf-8")
    headings = {_slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert links, "the README has no table of contents"
    assert [link for link in links if link not in headings] == []


def test_every_result_file_named_is_one_a_bench_writes() -> None:
    """``bench/results/`` is not in the repository: a result file the README names must be one
    that running a bench writes (``write_json(NAME)``, or a ``--name`` default), so that the
    reader can make it."""
    bench = README.parent / "bench"
    sources = "\n".join(path.read_text() for path in sorted(bench.glob("*.py")))
    written = set(re.findall(r"write_json\(\s*['\"](\w+)['\"]", sources))
    written |= set(re.findall(r'"--name", default="(\w+)"', sources))
    named = set(re.findall(r"bench/results/(\w+)\.json", README.read_text()))
    assert {"trust_lists", "registry_scale"} <= written  # the scan finds both kinds
    assert named - written == set()
