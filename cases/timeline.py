"""The case timeline as the reader sees it: each TimelineEntry rendered in the reader's
language from the codes and names its writer stored (see the timeline contract in
cases/services.timeline_add), newest first, with who and when.

Entries are written by many services, some of them later than this module; an unknown
kind, a missing key or a value of the wrong type must never break the page, so every
value is read defensively and an entry that cannot be described shows its kind's name.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _

from atensi.core.models import ServiceComponent
from stakeholders.models import User

from .models import (
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseSource,
    ClosureReason,
    DocumentKind,
    FollowUpKind,
    NoteKind,
    PlanItemStatus,
    Stage,
    TimelineEntry,
    TimelineKind,
)

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class TimelineItem:
    pk: int
    kind: str
    kind_label: str
    at: datetime.datetime
    actor_name: str
    text: str
    detail: str = ""
    tone: str = "secondary"  # a Bootstrap colour for the entry's badge
    by_reader: bool = False


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]
    # The id to pass as ?before= for the next (older) page, or None at the oldest entry.
    older_before: int | None


# --- reading stored values safely ---------------------------------------------------------


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _label(choices: type[models.Choices], value: str) -> str:
    """The translated label of a choice code; the code itself if it is not (or no longer) known."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _names(data: Mapping[str, object], key: str) -> str:
    """A stored list of names, joined; anything else as empty."""
    value = data.get(key)
    if not isinstance(value, list | tuple):
        return ""
    return ", ".join(str(v).strip() for v in value if v is not None and str(v).strip())


def _date(value: str) -> str:
    """An ISO date in the reader's format; anything else as it was stored."""
    if not value:
        return ""
    try:
        return formats.date_format(datetime.date.fromisoformat(value[:10]), "DATE_FORMAT")
    except ValueError:
        return value


def _field_names(values: object) -> str:
    if not isinstance(values, list | tuple):
        return ""
    names = []
    for name in values:
        try:
            field = Case._meta.get_field(str(name))
        except FieldDoesNotExist:  # an unknown or renamed field: show its code
            names.append(str(name))
            continue
        names.append(str(getattr(field, "verbose_name", name)))
    return ", ".join(names)


# --- one renderer per kind: (text, detail, tone) ---------------------------------------------


Rendered = tuple[str, str, str]


class RenderContext(TypedDict):
    """What the renderers of one page share."""

    components: dict[str, str]  # ATENSI component names by code


def _opened(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    source = _label(CaseSource, _text(d, "source"))
    if source:
        return _("Case opened (source: %(source)s)") % {"source": source}, "", "primary"
    return _("Case opened"), "", "primary"


def _stage(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    src, dst = _text(d, "from_stage"), _text(d, "to_stage")
    note = _text(d, "note")
    names = {"from": _label(Stage, src), "to": _label(Stage, dst)}
    if dst == Stage.CLOSED:
        reason = _label(ClosureReason, _text(d, "closure_reason"))
        text = _("Case closed: %(reason)s") % {"reason": reason} if reason else _("Case closed")
        return text, note, "dark"
    if src == Stage.CLOSED:
        return _("Case reopened at %(to)s") % names, note, "warning"
    order = [s.value for s in Stage]
    if src in order and dst in order and order.index(dst) < order.index(src):
        return _("Moved back from %(from)s to %(to)s") % names, note, "warning"
    if dst:
        return _("Moved to %(to)s") % names, note, "primary"
    return _("Stage changed"), note, "primary"


def _assigned(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    parts = []
    if "case_manager" in d:
        parts.append(_("case manager: %(name)s") % {"name": _text(d, "case_manager") or _("nobody")})
    if "supervisor" in d:
        parts.append(_("supervisor: %(name)s") % {"name": _text(d, "supervisor") or _("nobody")})
    if _text(d, "organisation"):
        # A transfer accepted: the case moved to another organisation (referrals).
        return _("Case handed over to %(org)s") % {"org": _text(d, "organisation")}, "; ".join(parts), "info"
    if not parts:
        return _("Assignment changed"), "", "info"
    if d.get("handover"):
        # A supervisor handed the case over from the case list (cases.reassign).
        before = _text(d, "previous_case_manager") or _("nobody")
        return (
            _("Handed over to %(name)s") % {"name": _text(d, "case_manager") or _("nobody")},
            _("case manager before: %(name)s") % {"name": before},
            "info",
        )
    return _("Assigned — %(who)s") % {"who": "; ".join(parts)}, "", "info"


def _updated(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    fields = _field_names(d.get("fields"))
    if fields:
        return _("Case details changed: %(fields)s") % {"fields": fields}, "", "secondary"
    return _("Case details changed"), "", "secondary"


def _note(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    kind = _label(NoteKind, _text(d, "note_kind")) or _("Note")
    when = _date(_text(d, "occurred_on"))
    if when:
        return _("%(kind)s on %(date)s") % {"kind": kind, "date": when}, "", "success"
    return kind, "", "success"


def _assessment(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    when = _date(_text(d, "assessed_on"))
    if _text(d, "action") == "edited":
        text = _("Assessment of %(date)s edited") % {"date": when} if when else _("Assessment edited")
    else:
        text = _("Assessment recorded (%(date)s)") % {"date": when} if when else _("Assessment recorded")
    return text, "", "info"


def _plan_item(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    service = _text(d, "service") or _("a service")
    component = ctx["components"].get(_text(d, "component"), _text(d, "component"))
    status = _label(PlanItemStatus, _text(d, "status"))
    provider = _text(d, "provider")
    provided_by = _("provided by %(org)s") % {"org": provider} if provider else ""
    if _text(d, "action") == "edited":
        text = _("Plan item changed: %(service)s") % {"service": service}
    else:
        text = _("Plan item added: %(service)s") % {"service": service}
    extra = " · ".join(p for p in (component, status, provided_by) if p)
    return (f"{text} ({extra})" if extra else text), "", "info"


def _approval_requested(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    kind = _text(d, "approval_kind")
    if kind == ApprovalKind.PLAN:
        return _("Asked a supervisor to approve the intervention plan"), "", "warning"
    if kind == ApprovalKind.CLOSURE:
        return _("Asked a supervisor to approve closing the case"), "", "warning"
    return _("Asked for approval: %(what)s") % {"what": _label(ApprovalKind, kind) or "?"}, "", "warning"


def _approval_decided(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    what = _label(ApprovalKind, _text(d, "approval_kind")) or _("Request")
    status = _text(d, "status")
    comment = _text(d, "comment")
    if status == ApprovalStatus.APPROVED:
        return _("%(what)s approved") % {"what": what}, comment, "success"
    if status == ApprovalStatus.REJECTED:
        return _("%(what)s not approved") % {"what": what}, comment, "danger"
    if status == ApprovalStatus.WITHDRAWN:
        return _("Request for approval withdrawn: %(what)s") % {"what": what}, comment, "secondary"
    return _("Decision on: %(what)s") % {"what": what}, comment, "secondary"


def _document(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    title = _text(d, "title") or _("a document")
    kind = _label(DocumentKind, _text(d, "doc_kind"))
    text = _("Document added: %(title)s") % {"title": title}
    return (f"{text} ({kind})" if kind else text), "", "secondary"


def _consent(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    action = _text(d, "action")
    name = _text(d, "given_by_name")
    if action == "withdrawn":
        text = _("Consent given by %(name)s withdrawn") % {"name": name} if name else _("Consent withdrawn")
        when = _date(_text(d, "withdrawn_on"))
        return text, (_("Withdrawn on %(date)s.") % {"date": when} if when else ""), "danger"
    if action == "override":
        org = _text(d, "organisation")
        text = (
            _("Emergency sharing with %(org)s without consent (supervisor's decision)") % {"org": org}
            if org
            else _("Emergency sharing without consent (supervisor's decision)")
        )
        return text, _text(d, "reason"), "danger"
    text = _("Consent given by %(name)s") % {"name": name} if name else _("Consent recorded")
    shared = _names(d, "organisations")
    return text, (_("May be shared with: %(orgs)s.") % {"orgs": shared} if shared else ""), "success"


def _follow_up(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    kind = _label(FollowUpKind, _text(d, "follow_up_kind")) or _("Follow-up")
    names = {"kind": kind, "date": _date(_text(d, "due_on"))}
    action = _text(d, "action")
    if action == "done":
        return _("Follow-up done: %(kind)s (due %(date)s)") % names, "", "success"
    if action == "missed":
        return _("Follow-up missed: %(kind)s (due %(date)s)") % names, _text(d, "reason"), "danger"
    assignee = _text(d, "assignee")
    if assignee:
        return (
            _("Follow-up planned: %(kind)s, due %(date)s, for %(name)s") % {**names, "name": assignee},
            "",
            "secondary",
        )
    return _("Follow-up planned: %(kind)s, due %(date)s") % names, "", "secondary"


def _merge(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    name = _text(d, "merged_name")
    if name:
        return _("A duplicate record (%(name)s) was merged into this child's record") % {"name": name}, "", "secondary"
    return _("A duplicate record was merged into this child's record"), "", "secondary"


def _referral(d: Mapping[str, object], ctx: RenderContext) -> Rendered:
    # Written by referrals/services.py: action, referral_kind, receiver (name).
    org = _text(d, "receiver") or _text(d, "organisation")
    texts = {
        "sent": _("Referred to %(org)s"),
        "accepted": _("%(org)s accepted the referral"),
        "declined": _("%(org)s declined the referral"),
        "cancelled": _("The referral to %(org)s was cancelled"),
        "completed": _("%(org)s completed the referral and reported the outcome"),
    }
    text = texts.get(_text(d, "action"))
    if text and org:
        return text % {"org": org}, _text(d, "note"), "info"
    return (_("Referral: %(org)s") % {"org": org} if org else _("Referral")), _text(d, "note"), "info"


RENDERERS: dict[str, Callable[[Mapping[str, object], RenderContext], Rendered]] = {
    TimelineKind.OPENED: _opened,
    TimelineKind.STAGE: _stage,
    TimelineKind.ASSIGNED: _assigned,
    TimelineKind.UPDATED: _updated,
    TimelineKind.NOTE: _note,
    TimelineKind.ASSESSMENT: _assessment,
    TimelineKind.PLAN_ITEM: _plan_item,
    TimelineKind.APPROVAL_REQUESTED: _approval_requested,
    TimelineKind.APPROVAL_DECIDED: _approval_decided,
    TimelineKind.DOCUMENT: _document,
    TimelineKind.CONSENT: _consent,
    TimelineKind.FOLLOW_UP: _follow_up,
    TimelineKind.MERGE: _merge,
    TimelineKind.REFERRAL: _referral,
}


def render_entry(entry: TimelineEntry, *, ctx: RenderContext, reader_id: int | None = None) -> TimelineItem:
    kind_label = _label(TimelineKind, entry.kind) or _("Entry")
    data = entry.data if isinstance(entry.data, dict) else {}
    renderer = RENDERERS.get(entry.kind)
    text, detail, tone = kind_label, "", "secondary"
    if renderer is not None:
        try:
            text, detail, tone = renderer(data, ctx)
        except Exception:  # a malformed entry shows its kind rather than breaking the case page
            logger.exception("timeline entry %s could not be rendered", entry.pk)
    actor = entry.actor
    return TimelineItem(
        pk=entry.pk,
        kind=entry.kind,
        kind_label=kind_label,
        at=entry.at,
        actor_name=(actor.get_full_name() or actor.username) if actor is not None else _("the portal"),
        text=str(text),
        detail=str(detail),
        tone=tone,
        by_reader=reader_id is not None and entry.actor_id == reader_id,
    )


def _component_names(entries: list[TimelineEntry]) -> dict[str, str]:
    codes = {
        str(e.data.get("component"))
        for e in entries
        if e.kind == TimelineKind.PLAN_ITEM and isinstance(e.data, dict) and e.data.get("component")
    }
    if not codes:
        return {}
    return {c.code: c.name for c in ServiceComponent.objects.filter(code__in=codes)}


def timeline_for(
    *, case: Case, user: User, limit: int = DEFAULT_LIMIT, before: int | None = None
) -> list[TimelineItem]:
    """Up to `limit` lines of the case's timeline, newest first; `before` (an entry id)
    starts after that entry (the next, older page). One query for entries and actors,
    one more only if plan items need their component names, one for `before`."""
    entries = _entries(case=case, limit=limit, before=before)
    ctx = RenderContext(components=_component_names(entries))
    reader_id = getattr(user, "pk", None)
    return [render_entry(e, ctx=ctx, reader_id=reader_id) for e in entries]


def timeline_page(*, case: Case, user: User, limit: int = DEFAULT_LIMIT, before: int | None = None) -> TimelinePage:
    """A page of the timeline and the cursor of the older page, if there is one."""
    items = timeline_for(case=case, user=user, limit=limit + 1, before=before)
    if len(items) > limit:
        return TimelinePage(items=items[:limit], older_before=items[limit - 1].pk)
    return TimelinePage(items=items, older_before=None)


def _entries(*, case: Case, limit: int, before: int | None) -> list[TimelineEntry]:
    qs = TimelineEntry.objects.filter(case=case).select_related("actor").order_by("-at", "-pk")
    if before is not None:
        anchor = TimelineEntry.objects.filter(case=case, pk=before).values_list("at", flat=True).first()
        if anchor is None:
            return []
        qs = qs.filter(Q(at__lt=anchor) | Q(at=anchor, pk__lt=before))
    return list(qs[: max(limit, 0)])
