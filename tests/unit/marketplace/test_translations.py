"""The English and Simplified Chinese catalogues are complete and compiled."""

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = ROOT / "marketplace/translations/zh/LC_MESSAGES/messages.po"


def _strings_in_source(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-o", str(pot), "--ignore-dirs=.venv", "--ignore-dirs=tests",
         "--ignore-dirs=bench", "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


def test_every_interface_string_has_a_chinese_translation(tmp_path):
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and m.string and (m.string if isinstance(m.string, str) else all(m.string))
        and not m.fuzzy
    }

    in_source = _strings_in_source(tmp_path)
    missing = in_source - translated

    assert len(in_source) > 250  # the extraction really found the interface

    assert missing == set(), "run `make translations` and translate: " + "; ".join(sorted(missing))


def _plain(value):
    """Plural forms come back as lists from .mo files and tuples from .po files."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalogue_matches_the_po_file():
    with CATALOGUE.open("rb") as handle:
        po = {_plain(m.id): _plain(m.string) for m in read_po(handle) if m.id and not m.fuzzy}
    with CATALOGUE.with_suffix(".mo").open("rb") as handle:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(handle) if m.id}

    assert po == mo, "run `make translations` to recompile the .mo file"


def test_placeholders_survive_translation():
    import re

    with CATALOGUE.open("rb") as handle:
        for message in read_po(handle):
            if not message.id or not isinstance(message.id, str):
                continue
            wanted = sorted(re.findall(r"%\(\w+\)s", message.id))
            assert sorted(re.findall(r"%\(\w+\)s", message.string)) == wanted, message.id
