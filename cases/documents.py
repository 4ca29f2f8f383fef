"""Documents and consent of a case: uploading and serving the files of a case, consent
to process and share the child's data (UU PDP Pasal 25) and its withdrawal, and a
supervisor's emergency override to share without consent.

Services (writes) are keyword-only and atomic and raise ApplicationError; selectors
(reads) take a case the caller already got through cases.selectors.case_get_for_user.
`sharing_allowed()` is what a referral asks before sharing a child's data with
another organisation.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from atensi.core.access import get_or_404
from atensi.core.errors import ApplicationError, require
from atensi.core.uploads import DOCUMENT_KINDS, IMAGE_KINDS, check_upload
from stakeholders.models import Organisation, User

from .models import (
    Beneficiary,
    Case,
    Consent,
    Document,
    DocumentKind,
    FamilyMember,
    Relation,
    SharingOverride,
    TimelineKind,
)
from .permissions import anonymised_message, change_case_refusal, supervise_case_refusal
from .services import case_lock, full_clean_or_raise, timeline_add

# --- Names of uploaded files ------------------------------------------------------------

_UNSAFE_IN_NAMES = set('"\\/<>:|?*;')


def clean_file_name(name: str, *, fallback: str = "document") -> str:
    """A file name fit to show and to put in a Content-Disposition header: no folders,
    no control characters or quotes, at most 255 characters."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/")).rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in _UNSAFE_IN_NAMES)
    name = " ".join(name.split()).strip(" .")
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        name = stem[: 255 - len(ext)] + ext if len(ext) <= 10 else name[:255]
    return name or fallback


_KIND_BY_CONTENT_TYPE = {kind.content_type: kind for kind in DOCUMENT_KINDS}


def document_download_name(document: Document) -> str:
    """The name a downloaded document gets: its original name, cleaned, with an extension
    that matches the type it is served as (so it opens in the right program)."""
    name = clean_file_name(document.original_name or document.title)
    kind = _KIND_BY_CONTENT_TYPE.get(document.content_type)
    if kind is None:
        return name
    ext = os.path.splitext(name)[1]
    if ext.lstrip(".").lower() in kind.extensions:
        return name
    return f"{name}.{kind.extensions[0]}"


def _sha256(file: File[bytes]) -> str:
    """The file's SHA-256, read in chunks: a 10 MB upload is never held in memory twice."""
    digest = hashlib.sha256()
    if hasattr(file, "chunks"):
        for chunk in file.chunks():
            digest.update(chunk)
    else:  # pragma: no cover - every upload Django hands us has chunks()
        file.seek(0)
        for chunk in iter(lambda: file.read(64 * 1024), b""):
            digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


# --- Documents --------------------------------------------------------------------------


def _already_on_case(*, case: Case, sha256: str) -> ApplicationError | None:
    existing = Document.objects.filter(case=case, sha256=sha256).only("title").first()
    if existing is None:
        return None
    return ApplicationError(
        _("This file is already on the case as “%(title)s”. Nothing was uploaded twice.") % {"title": existing.title},
        field="file",
        extra={"document": existing},
    )


@transaction.atomic
def document_upload(*, case: Case, by: User, kind: str, title: str, file: File[bytes]) -> Document:
    """Store `file` on the case after checking what it really is.

    The type is judged by the bytes (atensi.core.uploads), the file is stored under a random
    name in private storage, and the same bytes are stored once per case.
    """
    require(change_case_refusal(by, case))
    title = (title or "").strip()
    if not title:
        raise ApplicationError(_("Give the document a title, e.g. “Akta kelahiran”."), field="title")
    if kind not in DocumentKind.values:
        raise ApplicationError(_("Choose what kind of document this is."), field="kind")
    file_kind = check_upload(file, kinds=DOCUMENT_KINDS, max_bytes=settings.ATENSI_DOCUMENT_MAX_BYTES)
    if kind == DocumentKind.PHOTO and file_kind not in IMAGE_KINDS:
        raise ApplicationError(
            _("A photo must be a JPEG or PNG image. Upload the %(type)s under another kind.")
            % {"type": file_kind.label},
            field="file",
        )
    sha256 = _sha256(file)
    duplicate = _already_on_case(case=case, sha256=sha256)
    if duplicate is not None:
        raise duplicate
    document = Document(
        case=case,
        kind=kind,
        title=title,
        original_name=clean_file_name(getattr(file, "name", "") or "", fallback=f"document.{file_kind.extensions[0]}"),
        content_type=file_kind.content_type,
        size=file.size,
        sha256=sha256,
        uploaded_by=by,
    )
    full_clean_or_raise(document, exclude=["file"])
    # The stored name is random (Document.file's upload_to); only its extension comes
    # from the kind the bytes were found to be.
    document.file.save(f"upload.{file_kind.extensions[0]}", file, save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        # The same file arrived twice at the same moment (a double click past the form
        # token); the database kept one.
        document.file.delete(save=False)
        duplicate = _already_on_case(case=case, sha256=sha256)
        raise (duplicate or ApplicationError(_("This file is already on the case."), field="file")) from None
    timeline_add(case=case, kind=TimelineKind.DOCUMENT, actor=by, obj=document, title=title, doc_kind=kind)
    return document


def documents_for_case(*, case: Case, kind: str = "") -> QuerySet[Document]:
    """The case's documents, newest first, optionally of one kind."""
    qs = Document.objects.filter(case=case).select_related("uploaded_by").order_by("-uploaded_at", "-pk")
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def document_get_for_case(*, case: Case, document_id: object) -> Document:
    """A document of this case (which the caller may read), or 404: never another case's."""
    return get_or_404(Document.objects.filter(case=case), pk=document_id)


# --- Consent ----------------------------------------------------------------------------


def _earliest_date(case: Case) -> datetime.date | None:
    """The child's birth date; for an estimated one (an approximate age), the start of its year."""
    birth = case.beneficiary.birth_date
    if birth is None:
        return None
    return datetime.date(birth.year, 1, 1) if case.beneficiary.birth_date_estimated else birth


def _short(value: datetime.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def _active_organisations(organisations: Iterable[Organisation], *, case: Case, field: str) -> list[Organisation]:
    chosen = list({org.pk: org for org in organisations}.values())
    for org in chosen:
        if org.pk == case.organisation_id:
            raise ApplicationError(
                _("%(org)s owns this case and needs no consent to share with itself. Remove it from the list.")
                % {"org": org.name},
                field=field,
            )
        if not org.is_active:
            raise ApplicationError(
                _("%(org)s is no longer active in the portal; the child's data cannot be shared with it.")
                % {"org": org.name},
                field=field,
            )
    return chosen


@transaction.atomic
def consent_create(
    *,
    case: Case,
    by: User,
    given_on: datetime.date,
    given_by: FamilyMember | None = None,
    given_by_name: str = "",
    relation: str = "",
    allows_processing: bool = True,
    allows_photos: bool = False,
    share_with: Iterable[Organisation] = (),
    form_document: Document | None = None,
    notes: str = "",
) -> Consent:
    """Record the consent a parent or guardian gave (UU PDP Pasal 25).

    `given_by`, a family member of the child, fills the name and the relation;
    without one, `given_by_name` and `relation` are typed in.
    """
    require(change_case_refusal(by, case))
    if given_by is not None:
        if given_by.beneficiary_id != case.beneficiary_id:
            raise ApplicationError(
                _("%(person)s is not in the family of %(name)s. Choose someone from the family list.")
                % {"person": given_by.name, "name": case.beneficiary.full_name},
                field="given_by",
            )
        given_by_name, relation = given_by.name, given_by.relation
    given_by_name = " ".join((given_by_name or "").split())
    if not given_by_name:
        raise ApplicationError(
            _("Choose the family member who gave consent, or type their name and relation."), field="given_by_name"
        )
    if relation not in Relation.values:
        raise ApplicationError(
            _("Choose how %(person)s is related to the child.") % {"person": given_by_name}, field="relation"
        )
    if not allows_processing:
        raise ApplicationError(
            _(
                "A consent must at least allow processing the child's data (UU PDP Pasal 25). If the "
                "guardian does not agree, write that in a case note; no consent is recorded."
            ),
            field="allows_processing",
        )
    if given_on is None:
        raise ApplicationError(_("Enter the date the consent was given."), field="given_on")
    today = timezone.localdate()
    if given_on > today:
        raise ApplicationError(
            _("The date consent was given cannot be in the future (today is %(today)s).") % {"today": _short(today)},
            field="given_on",
        )
    earliest = _earliest_date(case)
    if earliest is not None and given_on < earliest:
        raise ApplicationError(
            _("The date consent was given is before %(name)s was born (%(birth)s). Check the date.")
            % {"name": case.beneficiary.full_name, "birth": _short(earliest)},
            field="given_on",
        )
    organisations = _active_organisations(share_with, case=case, field="share_with")
    if form_document is not None and (
        form_document.case_id != case.pk or form_document.kind != DocumentKind.CONSENT_FORM
    ):
        raise ApplicationError(
            _("Choose a consent form uploaded to this case (a document of the kind “Consent form”)."),
            field="form_document",
        )
    consent = Consent(
        case=case,
        given_by=given_by,
        given_by_name=given_by_name,
        relation=relation,
        given_on=given_on,
        allows_processing=allows_processing,
        allows_photos=allows_photos,
        form=form_document,
        notes=(notes or "").strip(),
        recorded_by=by,
    )
    full_clean_or_raise(consent)
    consent.save()
    consent.share_with.set(organisations)
    timeline_add(
        case=case,
        kind=TimelineKind.CONSENT,
        actor=by,
        obj=consent,
        action="given",
        given_by_name=given_by_name,
        organisations=[org.name for org in organisations],
    )
    return consent


def consent_require_active(consent: Consent) -> None:
    if consent.withdrawn_on is not None:
        raise ApplicationError(
            _("This consent was already withdrawn on %(date)s.") % {"date": _short(consent.withdrawn_on)}
        )


@transaction.atomic
def consent_withdraw(*, consent: Consent, by: User, withdrawn_on: datetime.date, reason: str) -> Consent:
    """Record that the consent was withdrawn: from that day nothing more is shared under it."""
    case = consent.case
    require(change_case_refusal(by, case))
    if Beneficiary.objects.filter(pk=case.beneficiary_id, anonymised_at__isnull=False).exists():
        raise ApplicationError(anonymised_message())
    locked = Consent.objects.select_for_update().get(pk=consent.pk)
    consent_require_active(locked)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Write why the consent was withdrawn (who said so, and how)."), field="reason")
    if withdrawn_on is None:
        raise ApplicationError(_("Enter the date the consent was withdrawn."), field="withdrawn_on")
    today = timezone.localdate()
    if withdrawn_on > today:
        raise ApplicationError(
            _("The withdrawal date cannot be in the future (today is %(today)s).") % {"today": _short(today)},
            field="withdrawn_on",
        )
    if withdrawn_on < locked.given_on:
        raise ApplicationError(
            _("The consent cannot be withdrawn before it was given (%(date)s).") % {"date": _short(locked.given_on)},
            field="withdrawn_on",
        )
    locked.withdrawn_on = withdrawn_on
    locked.withdrawal_reason = reason
    locked.withdrawn_by = by
    locked.save(update_fields=["withdrawn_on", "withdrawal_reason", "withdrawn_by"])
    timeline_add(
        case=case,
        kind=TimelineKind.CONSENT,
        actor=by,
        obj=locked,
        action="withdrawn",
        given_by_name=locked.given_by_name,
        withdrawn_on=withdrawn_on.isoformat(),
    )
    return locked


def consents_for_case(*, case: Case) -> QuerySet[Consent]:
    """Every consent of the case, active first, then newest first, with what the page shows."""
    return (
        Consent.objects.filter(case=case)
        .select_related("recorded_by", "withdrawn_by", "form", "given_by")
        .prefetch_related(Prefetch("share_with", queryset=Organisation.objects.only("pk", "name").order_by("name")))
        .order_by("-given_on", "-pk")
    )


def consent_get_for_case(*, case: Case, consent_id: object) -> Consent:
    """A consent of this case, or 404: never another case's."""
    consent = get_or_404(Consent.objects.filter(case=case), pk=consent_id)
    consent.case = case  # the caller's case, with the child already loaded
    return consent


def consent_for_processing(case: Case) -> Consent | None:
    """The latest active consent that allows processing the child's data, if any."""
    return (
        Consent.objects.filter(case=case, withdrawn_on__isnull=True, allows_processing=True)
        .order_by("-given_on", "-pk")
        .first()
    )


# --- Sharing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SharingBasis:
    """Why the child's data may be shared with an organisation.

    `kind` is "consent" (an active consent names the organisation) or "override" (a
    supervisor's emergency decision); the record it rests on is in `consent` or `override`.
    """

    kind: str
    consent: Consent | None = None
    override: SharingOverride | None = None

    CONSENT = "consent"
    OVERRIDE = "override"


def _sharing_consents(case: Case) -> QuerySet[Consent]:
    """Consents of the case that still allow sharing with the organisations they name."""
    return Consent.objects.filter(case=case, withdrawn_on__isnull=True, allows_processing=True)


def sharing_allowed(*, case: Case, organisation: Organisation) -> SharingBasis | None:
    """May the case's data be shared with `organisation`, and on what basis (None: no).

    An active consent that allows processing and names the organisation comes first; a
    supervisor's emergency override otherwise. The owning organisation is not "shared
    with" and gets None like any other organisation without a basis.
    """
    consent = _sharing_consents(case).filter(share_with=organisation).order_by("-given_on", "-pk").first()
    if consent is not None:
        return SharingBasis(kind=SharingBasis.CONSENT, consent=consent)
    override = SharingOverride.objects.filter(case=case, organisation=organisation).order_by("-decided_at").first()
    if override is not None:
        return SharingBasis(kind=SharingBasis.OVERRIDE, override=override)
    return None


def sharing_bases(*, case: Case, organisation_ids: Iterable[int]) -> dict[int, str]:
    """{organisation id: "consent" | "override"} for many organisations at once, in two
    queries — the same rule as `sharing_allowed` (a consent wins over an override)."""
    ids = list(organisation_ids)
    if not ids:
        return {}
    bases: dict[int, str] = dict.fromkeys(
        SharingOverride.objects.filter(case=case, organisation_id__in=ids).values_list("organisation_id", flat=True),
        SharingBasis.OVERRIDE,
    )
    consented = _sharing_consents(case).filter(share_with__in=ids).values_list("share_with", flat=True)
    bases.update(dict.fromkeys(consented, SharingBasis.CONSENT))
    return bases


def overrides_for_case(*, case: Case) -> QuerySet[SharingOverride]:
    return (
        SharingOverride.objects.filter(case=case)
        .select_related("organisation", "decided_by")
        .order_by("-decided_at", "-pk")
    )


@dataclass(frozen=True)
class SharedWith:
    """One line of "what is shared with whom" on the consent page."""

    organisation: Organisation
    consents: tuple[Consent, ...]
    overrides: tuple[SharingOverride, ...]


def sharing_summary(*, consents: Iterable[Consent], overrides: Iterable[SharingOverride]) -> list[SharedWith]:
    """Organisations the data may be shared with and why, from already loaded consents
    (with share_with prefetched) and overrides: no further queries."""
    by_org: dict[int, tuple[Organisation, list[Consent], list[SharingOverride]]] = {}
    for consent in consents:
        if consent.withdrawn_on is not None or not consent.allows_processing:
            continue
        for org in consent.share_with.all():
            by_org.setdefault(org.pk, (org, [], []))[1].append(consent)
    for override in overrides:
        by_org.setdefault(override.organisation_id, (override.organisation, [], []))[2].append(override)
    return [
        SharedWith(organisation=org, consents=tuple(c), overrides=tuple(o))
        for org, c, o in sorted(by_org.values(), key=lambda row: row[0].name.lower())
    ]


@transaction.atomic
def sharing_override_create(*, case: Case, by: User, organisation: Organisation | None, reason: str) -> SharingOverride:
    """A supervisor's emergency decision to share the child's data with `organisation`
    without consent, with the reason. Audited (pghistory) and on the timeline."""
    # Serialise overrides on the case: two supervisors at once must not both add one.
    case = case_lock(case)
    require(supervise_case_refusal(by, case))
    if organisation is None:
        raise ApplicationError(_("Choose the organisation the data must be shared with."), field="organisation")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            _("Write the emergency that makes sharing without consent necessary. The reason is kept on record."),
            field="reason",
        )
    _active_organisations([organisation], case=case, field="organisation")
    basis = sharing_allowed(case=case, organisation=organisation)
    if basis is not None and basis.consent is not None:
        raise ApplicationError(
            _("The consent given by %(name)s on %(date)s already allows sharing with %(org)s; no override is needed.")
            % {
                "name": basis.consent.given_by_name,
                "date": _short(basis.consent.given_on),
                "org": organisation.name,
            },
            field="organisation",
        )
    if basis is not None and basis.override is not None:
        raise ApplicationError(
            _("An emergency override for %(org)s was already recorded on %(date)s.")
            % {
                "org": organisation.name,
                "date": _short(timezone.localtime(basis.override.decided_at).date()),
            },
            field="organisation",
        )
    override = SharingOverride(case=case, organisation=organisation, reason=reason, decided_by=by)
    full_clean_or_raise(override)
    override.save()
    timeline_add(
        case=case,
        kind=TimelineKind.CONSENT,
        actor=by,
        obj=override,
        action="override",
        given_by_name="",
        organisation=organisation.name,
    )
    return override
