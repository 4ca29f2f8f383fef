"""The committed translation catalogues are complete and compiled, and Django uses them.

No database needed. Strings are passed to gettext through variables so that makemessages
does not pick this file up as a source of messages.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.utils import translation

from atensi import i18n_tools

LANGUAGES = ["id", "en"]


def test_catalogues_complete_and_compiled() -> None:
    problems = i18n_tools.catalogue_problems(i18n_tools.LOCALE_DIR, languages=LANGUAGES)
    assert problems == [], "\n".join(problems) + "\nrun `make messages`, translate locale/id, and compile"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_entries(language: str) -> None:
    counts = i18n_tools.catalogue_counts(i18n_tools.LOCALE_DIR)[language]
    assert counts["total"] > 100
    assert counts["translated"] == counts["total"]


INDONESIAN = {
    "Home": "Beranda",
    "Log in": "Masuk",
    "Log out": "Keluar",
    "Change password": "Ubah kata sandi",
    "Intake officer": "Petugas penerimaan",
    "Log in to ATENSI Portal": "Masuk ke Portal ATENSI",
}


@pytest.mark.parametrize(("source", "indonesian"), INDONESIAN.items())
def test_strings_translate(source: str, indonesian: str) -> None:
    with translation.override("id"):
        assert translation.gettext(source) == indonesian
    with translation.override("en"):
        assert translation.gettext(source) == source


def test_placeholders_survive_translation() -> None:
    source = "Welcome, %(name)s"
    with translation.override("id"):
        assert translation.gettext(source) % {"name": "Siti"} == "Selamat datang, Siti"


def test_lazy_role_labels_follow_the_active_language() -> None:
    from stakeholders.roles import Role

    with translation.override("id"):
        assert str(Role.SOCIAL_WORKER.label) == "Pekerja sosial"
    with translation.override("en"):
        assert str(Role.SOCIAL_WORKER.label) == "Social worker"


# ---------------------------------------------------------------------------- the tools themselves

HEADER = (
    'msgid ""\nmsgstr ""\n'
    '"Content-Type: text/plain; charset=UTF-8\\n"\n'
    '"Plural-Forms: nplurals={n}; plural={p};\\n"\n\n'
)


def _write(locale_dir: Path, language: str, body: str) -> Path:
    path = locale_dir / language / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True)
    nplurals, plural = ("1", "0") if language == "id" else ("2", "(n != 1)")
    path.write_text(HEADER.format(n=nplurals, p=plural) + body, encoding="utf-8")
    return path


def test_tools_fill_compile_and_check(tmp_path: Path) -> None:
    locale_dir = tmp_path / "locale"
    en = _write(
        locale_dir,
        "en",
        'msgid "Home"\nmsgstr ""\n\n'
        '#, fuzzy\n#| msgid "Hello %(name)s"\nmsgid "Hi {name}"\nmsgstr "Hello %(name)s"\n\n'
        '#, python-format\nmsgid "One case"\nmsgid_plural "%(count)s cases"\nmsgstr[0] ""\nmsgstr[1] ""\n',
    )
    _write(
        locale_dir,
        "id",
        'msgid "Home"\nmsgstr "Beranda"\n\n'
        '#, python-format\nmsgid "Staff of %(org)s"\nmsgstr "Staf %(organisasi)s"\n\n'
        '#, fuzzy\nmsgid "Log out"\nmsgstr "Keluar"\n\n'
        'msgid "Cancel"\nmsgstr ""\n',
    )
    problems = "\n".join(i18n_tools.catalogue_problems(locale_dir))
    assert "en/LC_MESSAGES/django.po:" in problems
    assert "untranslated: 'Cancel'" in problems
    assert "fuzzy: 'Log out'" in problems
    assert "placeholders differ: 'Staff of %(org)s'" in problems
    assert "id/LC_MESSAGES/django.mo: missing" in problems

    assert i18n_tools.fill_english(locale_dir) == 3
    assert i18n_tools.fill_english(locale_dir) == 0
    filled = {e.msgid: e for e in polib.pofile(str(en))}
    assert filled["Home"].msgstr == "Home"
    assert filled["Hi {name}"].msgstr == "Hi {name}"
    assert not filled["Hi {name}"].fuzzy
    assert filled["One case"].msgstr_plural == {0: "One case", 1: "%(count)s cases"}

    assert len(i18n_tools.compile_all(locale_dir)) == 2
    assert i18n_tools.compile_all(locale_dir) == []
    assert i18n_tools.catalogue_problems(locale_dir, languages=["en"]) == []
    compiled = {e.msgid for e in polib.mofile(str(locale_dir / "id" / "LC_MESSAGES" / "django.mo"))}
    assert "Log out" not in compiled  # fuzzy entries stay out
    assert "Cancel" not in compiled

    # A .po edited after compiling makes its .mo stale.
    en.write_text(en.read_text(encoding="utf-8").replace('msgstr "Home"', 'msgstr "Start"'), encoding="utf-8")
    assert any("en/LC_MESSAGES/django.mo: out of date" in p for p in i18n_tools.catalogue_problems(locale_dir))


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_mo_from_msgfmt_counts_as_up_to_date(tmp_path: Path) -> None:
    po_path = tmp_path / "locale" / "id" / "LC_MESSAGES" / "django.po"
    po_path.parent.mkdir(parents=True)
    shutil.copy(i18n_tools.LOCALE_DIR / "id" / "LC_MESSAGES" / "django.po", po_path)
    subprocess.run(["msgfmt", "-o", str(po_path.with_suffix(".mo")), str(po_path)], check=True)
    assert i18n_tools.mo_problems(po_path) == []


def test_placeholder_parsing() -> None:
    named, positional = i18n_tools.percent_placeholders("%(a)s and %(b)d, %s of %d, 100%%")
    assert named == {("a", "s"): 1, ("b", "d"): 1}
    assert positional == ["s", "d"]
    assert i18n_tools.brace_placeholders("{name} {0} {} {{literal}} {x!r:>4}") == {"name": 1, "0": 1, "": 1, "x": 1}
