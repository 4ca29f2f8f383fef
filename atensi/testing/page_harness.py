"""The page harness: every page fits a 390 px phone and has no serious accessibility fault.

`check_page(page, name)` audits the page a Playwright `page` shows and compares what it
found with the committed baseline (tests/browser/page_baseline.toml):

- **No sideways scroll at 390 px**: neither the document nor any box inside it may be
  wider than what it shows. A box the user has to scroll sideways (overflow-x auto or
  scroll: a `.table-responsive` wrapper, a `flex-nowrap overflow-auto` tab bar) counts as
  much as the page does: on a phone in the field a hidden column or tab is as lost as a
  page that scrolls. Content that sticks out of the screen while the page itself is kept
  from scrolling (clipped by an `overflow-x: hidden` ancestor) counts too.
- **axe-core**: no violation of impact "serious" or "critical".

A page in the baseline is still audited: it fails when it gains a failure the baseline
does not list, and when a listed failure is gone ("stale baseline entry"), so the baseline
only ever shrinks. A page not in the baseline must pass outright.

axe-core comes bundled in PyPI `axe-playwright-python` (nothing is fetched). It is
injected with `page.evaluate`, which runs through the DevTools protocol: the portal's
Content-Security-Policy (`script-src 'self'`, no `unsafe-eval`) governs what the page's
own scripts may load and evaluate, not what the automation evaluates, and axe-core itself
needs neither eval nor inline script. So the audit runs in the ordinary context, under
the real CSP, without `bypass_csp`; tests/browser/test_page_harness.py checks that the
audit leaves no CSP report in the console.
"""

from __future__ import annotations

import functools
import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

PHONE = {"width": 390, "height": 844}
BLOCKING_IMPACTS = ("serious", "critical")
BASELINE_PATH = Path(__file__).resolve().parent.parent.parent / "tests" / "browser" / "page_baseline.toml"

# A finding's key is what the baseline records: "axe:<rule id>" or "overflow:<where>".
AXE = "axe:"
OVERFLOW = "overflow:"

# Finds what scrolls or sticks out sideways at the current viewport. Each box is named by
# a selector stable across data (tag with id, data-testid or first classes, after its
# nearest ancestor with an id or data-testid; no nth-child), and only the outermost
# offender of a subtree is reported.
_OVERFLOW_JS = """
() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const found = [];
  const own = (el) => {
    const tag = el.tagName.toLowerCase();
    if (el.id) return tag + "#" + el.id;
    const testid = el.getAttribute("data-testid");
    if (testid) return tag + "[data-testid=" + testid + "]";
    const classes = [...el.classList].filter((c) => !c.startsWith("htmx-")).slice(0, 3);
    return classes.length ? tag + "." + classes.join(".") : tag;
  };
  // Its own name, after the nearest ancestor with an id or a data-testid if it has neither.
  const name = (el) => {
    if (el.id || el.getAttribute("data-testid")) return own(el);
    const anchor = el.parentElement && el.parentElement.closest("[id], [data-testid]");
    return anchor && anchor !== document.body ? own(anchor) + " " + own(el) : own(el);
  };
  if (root.scrollWidth > width + 1) {
    found.push({where: "document", detail: `the page is ${root.scrollWidth}px wide in a ${width}px screen`});
  }
  const style = (el) => getComputedStyle(el);
  const shown = (el) => {
    const st = style(el);
    if (st.display === "none" || st.visibility === "hidden") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 || r.height > 0;
  };
  // Boxes the user has to scroll sideways; the outermost of a nest.
  const scrollers = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (scrollers.some((s) => s.contains(el)) || !shown(el)) continue;
    const ox = style(el).overflowX;
    if ((ox === "auto" || ox === "scroll") && el.scrollWidth > el.clientWidth + 1) {
      found.push({where: name(el), detail: `scrolls sideways: ${el.scrollWidth}px of content in ${el.clientWidth}px`});
      scrollers.push(el);
    }
  }
  // Boxes that stick out of the screen and no ancestor clips: they widen the page (or are
  // cut off by an overflow-x: hidden body). An absolutely positioned box is clipped only
  // from its containing block up (a .visually-hidden span in a table scroller with no
  // positioned ancestor escapes it); a fixed one by nothing.
  const clippedAt = (el) => {
    const position = style(el).position;
    if (position === "fixed") return null;
    let a = position === "absolute" ? el.offsetParent : el.parentElement;
    for (; a && a !== document.body && a !== root; a = a.parentElement) {
      if (style(a).overflowX !== "visible") return a;
    }
    return null;
  };
  const stickers = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (stickers.some((s) => s.contains(el)) || !shown(el)) continue;
    const rect = el.getBoundingClientRect();
    if (rect.right <= width + 1 && rect.left >= -1) continue;
    if (clippedAt(el)) continue;  // the clipping box is judged itself
    const off = Math.round(rect.right > width + 1 ? rect.right - width : -rect.left);
    found.push({where: name(el), detail: `sticks ${off}px out of the ${width}px screen`});
    stickers.push(el);
  }
  return found;
}
"""


@dataclass(frozen=True)
class Finding:
    key: str
    detail: str


@dataclass(frozen=True)
class PageAudit:
    name: str
    url: str
    findings: tuple[Finding, ...]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(f.key for f in self.findings)

    def report(self, keys: frozenset[str] | set[str] | None = None) -> str:
        return "\n".join(f"    {f.key}: {f.detail}" for f in self.findings if keys is None or f.key in keys)


def load_baseline(path: Path = BASELINE_PATH) -> dict[str, frozenset[str]]:
    """{page name: the failures it is allowed to have today}."""
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    pages: dict[str, Any] = data.get("pages", {})
    return {
        name: frozenset(
            [*(AXE + rule for rule in entry.get("axe", [])), *(OVERFLOW + where for where in entry.get("overflow", []))]
        )
        for name, entry in pages.items()
    }


@functools.cache
def _axe_script() -> str:
    # The axe-core build the package ships (its version is in the file's first line).
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def _wait_until_settled(page: Any) -> None:
    page.wait_for_load_state("load")
    # htmx fragments loaded on "load" (the inbox figures) are part of the page.
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.evaluate("() => document.fonts.ready.then(() => true)")


def audit_page(page: Any, name: str) -> PageAudit:
    """Audit the page as it is, at 390 px wide.

    A page opened at another width is narrowed in place and given two frames to lay out
    again, not reloaded: a reload would send a form's POST again. Open the page at 390 px
    (`page.set_viewport_size(PHONE)` first, or a context with `viewport=PHONE`) where a
    script sizes things once on load."""
    if page.viewport_size != PHONE:
        page.set_viewport_size(PHONE)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    _wait_until_settled(page)
    findings = [Finding(OVERFLOW + o["where"], o["detail"]) for o in page.evaluate(_OVERFLOW_JS)]

    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_script())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    for violation in results["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        # A target is a CSS selector, or a list of them into iframes and shadow roots.
        targets = [" >> ".join(map(str, node["target"])) for node in violation["nodes"]]
        shown = ", ".join(targets[:5]) + (f" (+{len(targets) - 5} more)" if len(targets) > 5 else "")
        findings.append(Finding(AXE + violation["id"], f"{violation['impact']}: {violation['help']} — {shown}"))
    # One line per key: several boxes may share a name, several nodes a rule.
    merged: dict[str, list[str]] = {}
    for finding in findings:
        merged.setdefault(finding.key, []).append(finding.detail)
    return PageAudit(
        name=name,
        url=page.url,
        findings=tuple(Finding(key, "; ".join(details)) for key, details in sorted(merged.items())),
    )


def compare(audit: PageAudit, baseline: dict[str, frozenset[str]]) -> list[str]:
    """What is wrong with this audit against the baseline: new failures and stale entries."""
    allowed = baseline.get(audit.name, frozenset())
    problems = []
    new = audit.keys - allowed
    if new:
        problems.append(f"{audit.name} ({audit.url}) has new failures:\n{audit.report(new)}")
    stale = allowed - audit.keys
    if stale:
        problems.append(
            f"{audit.name}: stale baseline entries, remove them from {BASELINE_PATH.name}: {', '.join(sorted(stale))}"
        )
    return problems


def check_page(page: Any, name: str, *, baseline: dict[str, frozenset[str]] | None = None) -> PageAudit:
    """Assert that the page fits 390 px and has no serious/critical axe violation, or
    exactly the failures its baseline entry lists. Returns the audit."""
    audit = audit_page(page, name)
    problems = compare(audit, load_baseline() if baseline is None else baseline)
    assert not problems, "\n".join(problems)
    return audit


def baseline_toml(audits: list[PageAudit]) -> str:
    """The baseline file for these audits (pages with a failure only), for regenerating it."""
    lines = [
        "# Pages that fail the page harness today (atensi/testing/page_harness.py), with their",
        "# failures. A page listed here is still audited: a new failure fails the test, and so does",
        "# a listed failure that is gone (delete it). Pages not listed must pass. Regenerate with",
        "# ATENSI_PAGE_BASELINE=write make test PYTEST_ARGS=tests/browser/test_page_harness.py",
        "# only when a failure is accepted on purpose; the goal is an empty file.",
        "",
    ]
    for audit in sorted(audits, key=lambda a: a.name):
        axe = sorted(k.removeprefix(AXE) for k in audit.keys if k.startswith(AXE))
        overflow = sorted(k.removeprefix(OVERFLOW) for k in audit.keys if k.startswith(OVERFLOW))
        if not axe and not overflow:
            continue
        lines.append(f"[pages.{json.dumps(audit.name)}]")
        if axe:
            lines.append(f"axe = {json.dumps(axe, ensure_ascii=False)}")
        if overflow:
            lines.append(f"overflow = {json.dumps(overflow, ensure_ascii=False)}")
        lines.append("")
    return "\n".join(lines)
