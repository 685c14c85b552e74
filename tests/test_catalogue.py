"""The German catalogue is complete (SPEC §20): what `makemessages` would
find in the code is exactly what locale/de/LC_MESSAGES/django.po holds, and
every message there has a German translation that is not fuzzy.

`makemessages` builds its template (.pot) as the README says to run it; the
comparison is GNU gettext's own: `msgcmp` (both ways: a new string, a stale
one), `msgattrib` (untranslated, fuzzy) and `msgfmt --check` (placeholders
and plural forms as the header says). After a failure: run makemessages,
translate, and run this again."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.commands import makemessages

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"
GETTEXT_TOOLS = ("msgcmp", "msgattrib", "msgfmt", "xgettext", "msgmerge")


class TemplateOnly(makemessages.Command):
    """makemessages that keeps the template it extracted instead of merging
    it into the catalogue: the repository's .po is left as it is."""

    template = ""

    def write_po_file(self, potfile, locale):
        type(self).template = Path(potfile).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    missing = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"GNU gettext is needed ({', '.join(missing)} missing): bin/gettext installs it", pytrace=False)
    folder = tmp_path_factory.mktemp("catalogue")
    # makemessages reads the tree from the current directory, as the README runs it.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        call_command(
            TemplateOnly(), locale=["de"], no_location=True, ignore_patterns=["tests", "bench", "var"], verbosity=0
        )
    path = folder / "django.pot"
    path.write_text(TemplateOnly.template, encoding="utf-8")
    return path


def gettext(*args) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False)


def named(result: subprocess.CompletedProcess, path: Path) -> str:
    """msgcmp's complaints, each with the message it is about."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for line in result.stderr.splitlines():
        if m := re.match(rf"{re.escape(str(path))}:(\d+):", line):
            end = start = int(m[1]) - 1  # the entry's msgstr line; its msgid lines come before
            while start > 0 and lines[start - 1].strip() and not lines[start - 1].startswith("#"):
                start -= 1
            found.append(" ".join(lines[start:end]))
    return "\n".join(found) or result.stderr


def entries(po_text: str) -> list[str]:
    """The entries of msgattrib's output but its header."""
    return [block for block in po_text.strip().split("\n\n") if block and 'msgid ""\nmsgstr ""' not in block[:40]]


def test_makemessages_finds_no_string_that_the_catalogue_lacks(template):
    result = gettext("msgcmp", "--use-untranslated", "--use-fuzzy", str(PO), str(template))
    assert result.returncode == 0, "new strings; run makemessages and translate them:\n" + named(result, template)


def test_the_catalogue_holds_no_string_the_code_no_longer_has(template):
    result = gettext("msgcmp", "--use-untranslated", "--use-fuzzy", str(template), str(PO))
    assert result.returncode == 0, "stale strings; run makemessages:\n" + named(result, PO)


def test_every_german_message_is_translated_and_none_is_fuzzy():
    untranslated = entries(gettext("msgattrib", "--untranslated", "--no-obsolete", str(PO)).stdout)
    fuzzy = gettext("msgattrib", "--only-fuzzy", "--no-obsolete", str(PO)).stdout.strip()
    assert not untranslated, "untranslated:\n\n" + "\n\n".join(untranslated)
    assert not fuzzy, "fuzzy (check the translation, then remove the flag):\n\n" + fuzzy


def test_the_catalogue_compiles_with_its_placeholders_and_plurals():
    result = gettext("msgfmt", "--check", "--output-file=/dev/null", str(PO))
    assert result.returncode == 0, result.stderr
    header = PO.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert '"Language: de\\n"' in header and "#, fuzzy" not in header
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in header
