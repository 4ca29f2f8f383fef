"""Translation catalogue tools that need no GNU gettext: fill the English catalogue, compile, check.

Source strings are English, the default language is Bahasa Indonesia. `make messages` runs
Django's makemessages (which does need GNU gettext) and then this module::

    python -m atensi.i18n_tools fill-english   # locale/en: every empty msgstr := its msgid
    python -m atensi.i18n_tools compile        # every locale/*/LC_MESSAGES/django.po -> .mo
    python -m atensi.i18n_tools check          # exit 1 and list problems, if any
    python -m atensi.i18n_tools sources        # exit 1 if the sources hold strings the catalogue lacks

The compiled .mo files are committed and built with polib, so a machine without gettext
still gets translations, and `compile` gives the same bytes wherever it runs. (When GNU
gettext is installed, `fill-english` lets msgcat rewrap the file it saved, so that the next
makemessages finds nothing to change.)

`check` reports, for every catalogue: untranslated and fuzzy entries, a missing or fuzzy
header, a .mo that is missing or does not hold exactly what compiling the .po gives
(compared entry by entry, not by file date: git does not keep dates), and placeholders
(%(name)s, %s, {name}) that differ between msgid and msgstr. The same checks are plain
functions (`catalogue_problems` and friends) for the test suite.
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import polib

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = BASE_DIR / "locale"
DOMAIN = "django"
SOURCE_LANGUAGE = "en"
# GNU gettext's default page width, so polib's output stays close to what makemessages writes.
WRAP_WIDTH = 79

# printf-style conversions as Python's % operator reads them; "%%" is a literal percent sign.
_PERCENT_RE = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%])"
)
# str.format replacement fields; "{{" and "}}" are literal braces.
_BRACE_RE = re.compile(r"\{\{|\}\}|\{(?P<field>[A-Za-z_][\w.\[\]]*|\d*)(?:![rsa])?(?::[^{}]*)?\}")

Key = tuple[str, str, str, str, tuple[tuple[int, str], ...]]


# ---------------------------------------------------------------------------- files


def po_paths(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every `<locale>/LC_MESSAGES/django.po` under `locale_dir`, sorted."""
    return sorted(Path(locale_dir).glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def load_po(path: Path) -> polib.POFile:
    return polib.pofile(str(path), wrapwidth=WRAP_WIDTH)


def _display(path: Path, locale_dir: Path) -> str:
    """`path` relative to the directory holding `locale_dir` (e.g. "locale/id/LC_MESSAGES/django.po")."""
    try:
        return str(Path(path).relative_to(Path(locale_dir).parent))
    except ValueError:
        return str(path)


def _live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete]


# ---------------------------------------------------------------------------- fill-english


def fill_entry_with_source(entry: polib.POEntry) -> bool:
    """Make `entry` translate to its own English source; return whether it changed.

    Empty msgstrs get the msgid (msgstr[0] the msgid, other plural forms the msgid_plural).
    A fuzzy entry's msgstr is msgmerge's guess from a different, older msgid, so it is
    replaced by the source too. Translated, non-fuzzy entries are kept as they are.
    """
    changed = False
    if entry.fuzzy:
        entry.flags.remove("fuzzy")
        entry.previous_msgctxt = None
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
        if entry.msgid_plural:
            entry.msgstr_plural = {index: "" for index in entry.msgstr_plural}
        else:
            entry.msgstr = ""
        changed = True
    if entry.msgid_plural:
        forms = dict(entry.msgstr_plural) or {0: "", 1: ""}
        for index, text in sorted(forms.items()):
            if not text:
                forms[index] = entry.msgid if index == 0 else entry.msgid_plural
                changed = True
        if forms != entry.msgstr_plural:
            entry.msgstr_plural = forms
            changed = True
    elif not entry.msgstr:
        entry.msgstr = entry.msgid
        changed = True
    return changed


def fill_english(locale_dir: Path = LOCALE_DIR, language: str = SOURCE_LANGUAGE) -> int:
    """Complete the source-language catalogue by construction; return how many entries changed.

    Every empty or fuzzy entry gets its msgid (see `fill_entry_with_source`); the header
    gets `Language` and loses a fuzzy flag. The file is only rewritten when something
    changed, so re-running is free.
    """
    path = Path(locale_dir) / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run makemessages -l {language} first")
    po = load_po(path)
    changed = sum(fill_entry_with_source(entry) for entry in _live_entries(po))
    header_changed = False
    if po.metadata_is_fuzzy:
        po.metadata_is_fuzzy = 0
        header_changed = True
    if po.metadata.get("Language") != language:
        po.metadata["Language"] = language
        header_changed = True
    if changed or header_changed:
        po.save(str(path))
        normalise_layout(path)
    return changed


def normalise_layout(path: Path) -> None:
    """Rewrap a .po the way GNU gettext does, if it is installed; otherwise leave polib's layout.

    polib wraps a few long lines differently from msgmerge, so without this the next
    makemessages would rewrap them: a whitespace-only diff. Harmless when skipped.
    """
    msgcat = shutil.which("msgcat")
    if msgcat:
        subprocess.run([msgcat, "-o", str(path), str(path)], check=True)


# ---------------------------------------------------------------------------- compile


def compile_catalogue(po_path: Path) -> bool:
    """Compile one .po to the .mo beside it (fuzzy and obsolete entries left out).

    Returns whether the .mo was (re)written; an up-to-date .mo is not touched.
    """
    po = load_po(po_path)
    mo_path = Path(po_path).with_suffix(".mo")
    if mo_path.is_file() and mo_path.read_bytes() == po.to_binary():
        return False
    po.save_as_mofile(str(mo_path))
    return True


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every catalogue under `locale_dir`; return the .mo files that were written."""
    return [path.with_suffix(".mo") for path in po_paths(locale_dir) if compile_catalogue(path)]


# ---------------------------------------------------------------------------- checks


def _entry_key(entry: polib.POEntry | polib.MOEntry) -> Key:
    plurals = tuple(sorted((int(k), v) for k, v in (entry.msgstr_plural or {}).items()))
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "", entry.msgstr or "", plurals)


def _describe(key: Key) -> str:
    msgctxt, msgid, _plural, _msgstr, _plurals = key
    return f"{msgctxt}|{msgid!r}" if msgctxt else repr(msgid)


def translation_problems(po: polib.POFile, name: str = "") -> list[str]:
    """Untranslated and fuzzy entries, and a missing or fuzzy header, of one catalogue."""
    prefix = name or po.fpath or "<catalogue>"
    problems: list[str] = []
    if po.metadata_is_fuzzy:
        problems.append(f"{prefix}: the header is marked fuzzy")
    plural_forms = po.metadata.get("Plural-Forms", "")
    if "nplurals=" not in plural_forms or "INTEGER" in plural_forms:
        problems.append(f"{prefix}: the header has no usable Plural-Forms ({plural_forms!r})")
    for entry in _live_entries(po):
        if entry.fuzzy:
            problems.append(f"{prefix}:{entry.linenum}: fuzzy: {entry.msgid!r}")
        elif not entry.translated():
            problems.append(f"{prefix}:{entry.linenum}: untranslated: {entry.msgid!r}")
    return problems


def percent_placeholders(text: str) -> tuple[Counter[tuple[str, str]], list[str]]:
    """Named (name, conversion) placeholders as a multiset, and positional conversions in order."""
    named: Counter[tuple[str, str]] = Counter()
    positional: list[str] = []
    for match in _PERCENT_RE.finditer(text):
        kind = match.group("type")
        if kind == "%":
            continue
        if match.group("name") is not None:
            named[(match.group("name"), kind)] += 1
        else:
            positional.append(kind)
    return named, positional


def brace_placeholders(text: str) -> Counter[str]:
    """str.format field names as a multiset ("" for an automatically numbered {})."""
    return Counter(m.group("field") for m in _BRACE_RE.finditer(text) if m.group("field") is not None)


def _checks_percent(entry: polib.POEntry) -> bool:
    if "no-python-format" in entry.flags:
        return False
    return "python-format" in entry.flags or bool(percent_placeholders(entry.msgid)[0])


def _checks_brace(entry: polib.POEntry) -> bool:
    if "no-python-brace-format" in entry.flags:
        return False
    return "python-brace-format" in entry.flags or bool(brace_placeholders(entry.msgid))


def _same_placeholders(source: str, translation: str, percent: bool, brace: bool) -> bool:
    if percent:
        src_named, src_positional = percent_placeholders(source)
        tr_named, tr_positional = percent_placeholders(translation)
        if src_named != tr_named or src_positional != tr_positional:
            return False
    return not brace or brace_placeholders(source) == brace_placeholders(translation)


def placeholder_problems(po: polib.POFile, name: str = "") -> list[str]:
    """Translated entries whose placeholders or leading/trailing newlines differ from the source."""
    prefix = name or po.fpath or "<catalogue>"
    problems: list[str] = []
    for entry in _live_entries(po):
        if not entry.translated():
            continue
        percent, brace = _checks_percent(entry), _checks_brace(entry)
        if entry.msgid_plural:
            # msgstr[0] may follow the singular or (languages with one form, like id) the plural.
            pairs: Iterable[tuple[str, tuple[str, ...]]] = [
                (text, (entry.msgid, entry.msgid_plural) if int(index) == 0 else (entry.msgid_plural,))
                for index, text in sorted(entry.msgstr_plural.items())
            ]
        else:
            pairs = [(entry.msgstr, (entry.msgid,))]
        for text, sources in pairs:
            if not any(_same_placeholders(source, text, percent, brace) for source in sources):
                problems.append(f"{prefix}:{entry.linenum}: placeholders differ: {entry.msgid!r} -> {text!r}")
            for edge, test in (("leading", str.startswith), ("trailing", str.endswith)):
                if test(sources[-1], "\n") != test(text, "\n"):
                    problems.append(
                        f"{prefix}:{entry.linenum}: msgid and msgstr differ in a {edge} newline: {entry.msgid!r}"
                    )
    return problems


def mo_problems(po_path: Path, name: str = "") -> list[str]:
    """Whether the .mo beside `po_path` holds exactly what compiling the .po gives now."""
    po_path = Path(po_path)
    prefix = name or str(po_path)
    mo_path = po_path.with_suffix(".mo")
    mo_name = prefix[: -len(".po")] + ".mo" if prefix.endswith(".po") else str(mo_path)
    if not mo_path.is_file():
        return [f"{mo_name}: missing; run `python -m atensi.i18n_tools compile`"]
    po = load_po(po_path)
    try:
        mo = polib.mofile(str(mo_path))
    except (OSError, ValueError, struct.error) as exc:  # OSError: not a .mo; struct.error: truncated
        return [f"{mo_name}: unreadable ({exc}); run `python -m atensi.i18n_tools compile`"]
    # What compile would write: polib.mofile(po.to_binary()) round-trips the same way.
    expected = {_entry_key(e) for e in po.translated_entries()}
    actual = {_entry_key(e) for e in mo if e.msgid}
    problems: list[str] = []
    stale = sorted(expected - actual)
    extra = sorted(actual - expected)
    if stale or extra:
        detail = [f"{len(stale)} entries of the .po missing or different in the .mo"] if stale else []
        if extra:
            detail.append(f"{len(extra)} entries in the .mo that the .po does not have")
        examples = ", ".join(_describe(k) for k in (stale or extra)[:3])
        problems.append(
            f"{mo_name}: out of date ({'; '.join(detail)}; e.g. {examples}); run `python -m atensi.i18n_tools compile`"
        )
    if mo.metadata.get("Plural-Forms") != po.metadata.get("Plural-Forms"):
        problems.append(f"{mo_name}: Plural-Forms differs from the .po; run `python -m atensi.i18n_tools compile`")
    return problems


def catalogue_problems(locale_dir: Path = LOCALE_DIR, languages: Sequence[str] | None = None) -> list[str]:
    """Every problem of every catalogue under `locale_dir` (or only of `languages`); empty if all is well."""
    locale_dir = Path(locale_dir)
    paths = po_paths(locale_dir)
    problems: list[str] = []
    if languages is not None:
        found = {p.parent.parent.name for p in paths}
        problems += [f"{locale_dir}/{lang}: no {DOMAIN}.po catalogue" for lang in languages if lang not in found]
        paths = [p for p in paths if p.parent.parent.name in languages]
    elif not paths:
        problems.append(f"{locale_dir}: no */LC_MESSAGES/{DOMAIN}.po catalogue")
    for path in paths:
        name = _display(path, locale_dir)
        po = load_po(path)
        problems += translation_problems(po, name)
        problems += placeholder_problems(po, name)
        problems += mo_problems(path, name)
    return problems


def catalogue_counts(locale_dir: Path = LOCALE_DIR) -> dict[str, dict[str, int]]:
    """Per language: total, translated, fuzzy and untranslated entries (obsolete ones left out)."""
    counts: dict[str, dict[str, int]] = {}
    for path in po_paths(locale_dir):
        po = load_po(path)
        counts[path.parent.parent.name] = {
            "total": len(_live_entries(po)),
            "translated": len(po.translated_entries()),
            "fuzzy": len(po.fuzzy_entries()),
            "untranslated": len(po.untranslated_entries()),
        }
    return counts


# ---------------------------------------------------------------------------- sources

# The same scan as `make messages`: the portal's own code and templates, not tests or tooling.
MAKEMESSAGES_IGNORES = (".venv", "var", "tests", "*/tests/*")


def _entry_ids(po: polib.POFile) -> set[tuple[str, str, str]]:
    return {(e.msgctxt or "", e.msgid, e.msgid_plural or "") for e in po if not e.obsolete and e.msgid}


def _id_text(key: tuple[str, str, str]) -> str:
    msgctxt, msgid, _plural = key
    return f"{msgctxt}|{msgid!r}" if msgctxt else repr(msgid)


def source_problems(locale_dir: Path = LOCALE_DIR, language: str = "id") -> list[str]:
    """Strings in the sources that the catalogue lacks, and catalogue entries no source has.

    Runs Django's makemessages (GNU gettext) over the committed catalogue and compares the
    message ids; the catalogue is put back exactly as it was, whatever happens. A string
    added to the code without `make messages` would otherwise show in English to everyone.
    """
    if shutil.which("xgettext") is None:
        return ["GNU gettext is not installed (xgettext): apt-get install gettext"]
    target = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    backup = target.read_bytes()
    before = _entry_ids(polib.pofile(str(target)))
    command = [sys.executable, str(BASE_DIR / "manage.py"), "makemessages", "-l", language, "--no-obsolete"]
    command += [f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORES]
    try:
        result = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            return [f"makemessages failed: {result.stderr.strip()}"]
        after = _entry_ids(polib.pofile(str(target)))
    finally:
        target.write_bytes(backup)
    missing = sorted(after - before)
    stale = sorted(before - after)
    problems = [f"{language}: not in the catalogue: {_id_text(key)}" for key in missing]
    problems += [f"{language}: in the catalogue, in no source: {_id_text(key)}" for key in stale]
    if problems:
        problems.append("run `make messages`, translate, and commit locale/")
    return problems


# ---------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atensi.i18n_tools", description="Fill, compile and check the translation catalogues."
    )
    parser.add_argument("--locale-dir", type=Path, default=LOCALE_DIR, help="default: %(default)s")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fill-english", help="give every empty or fuzzy entry of locale/en its msgid")
    commands.add_parser("compile", help="compile every django.po to django.mo with polib")
    commands.add_parser("check", help="exit 1 listing untranslated/fuzzy entries, stale .mo files, placeholder errors")
    commands.add_parser("sources", help="exit 1 if the code holds strings the catalogue lacks (needs GNU gettext)")
    args = parser.parse_args(argv)
    locale_dir: Path = args.locale_dir

    if args.command == "fill-english":
        try:
            changed = fill_english(locale_dir)
        except FileNotFoundError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{SOURCE_LANGUAGE}: {changed} entries filled with their English source")
        return 0
    if args.command == "compile":
        paths = po_paths(locale_dir)
        written = compile_all(locale_dir)
        for path in written:
            print(f"compiled {_display(path, locale_dir)}")
        print(
            f"{len(paths)} catalogues, {len(written)} .mo files written, {len(paths) - len(written)} already up to date"
        )
        for lang, count in catalogue_counts(locale_dir).items():
            if count["fuzzy"] or count["untranslated"]:
                print(
                    f"{lang}: {count['untranslated']} untranslated and {count['fuzzy']} fuzzy entries "
                    "are left out (Django shows the English source for them)"
                )
        return 0
    if args.command == "sources":
        problems = source_problems(locale_dir)
        for problem in problems:
            print(problem)
        if problems:
            return 1
        print("catalogue holds every string of the sources")
        return 0
    problems = catalogue_problems(locale_dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problems", file=sys.stderr)
        return 1
    summary = ", ".join(f"{lang}: {c['translated']}/{c['total']}" for lang, c in catalogue_counts(locale_dir).items())
    print(f"catalogues complete and compiled ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
