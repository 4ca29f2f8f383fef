"""Writes to organisations, users and memberships. Views, admin and commands call these."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict, Unpack

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.access import forget_actor
from atensi.core.errors import ApplicationError, require
from atensi.core.models import Cluster, ServiceComponent
from atensi.core.uploads import pdf_refusal
from atensi.core.values import normalise_nik, parse_nik

from .models import Agreement, Membership, Organisation, ReachTarget, Region, RegionLevel, User, WorkforceMember
from .permissions import (
    administer_organisation_refusal,
    agreement_parties_refusal,
    change_agreement_refusal,
    set_reach_target_refusal,
)
from .roles import Role

# What an organisation's own admins keep up to date. Not the occupancy: that is the count
# of its open residential cases (cases.services.occupancy_recount), never typed in.
ORGANISATION_PROFILE_FIELDS = (
    "name",
    "address",
    "village",
    "latitude",
    "longitude",
    "phone",
    "whatsapp",
    "email",
    "clusters",
    "components",
    "capacity",
    "registration_number",
    "notes",
)
# What only a national admin decides: what the organisation is, where it sits in the
# hierarchy, what it covers, and its accreditation.
ORGANISATION_NATIONAL_FIELDS = (
    "kind",
    "parent",
    "home_region",
    "coverage",
    "accreditation",
    "accreditation_expires",
    "is_active",
    "is_national",
)
ORGANISATION_EDITABLE_FIELDS = ORGANISATION_PROFILE_FIELDS + ORGANISATION_NATIONAL_FIELDS


class OrganisationProfile(TypedDict, total=False):
    """ORGANISATION_EDITABLE_FIELDS but the name, kind, parent and notes (organisation_create
    takes those by name)."""

    address: str
    village: Region | None
    latitude: float | None
    longitude: float | None
    phone: str
    whatsapp: str
    email: str
    clusters: Iterable[Cluster]
    components: Iterable[ServiceComponent]
    capacity: int | None
    registration_number: str
    home_region: Region | None
    coverage: Iterable[Region]
    accreditation: str
    accreditation_expires: datetime.date | None
    is_active: bool
    is_national: bool


class OrganisationChanges(OrganisationProfile, total=False):
    """What organisation_update may change (ORGANISATION_EDITABLE_FIELDS)."""

    name: str
    kind: str
    parent: Organisation | None
    notes: str


@dataclass(frozen=True)
class _Related:
    """The many-to-many fields of a profile, set once the row is saved."""

    clusters: Iterable[Cluster] | None
    components: Iterable[ServiceComponent] | None
    coverage: Iterable[Region] | None

    @classmethod
    def take(cls, values: OrganisationProfile) -> _Related:
        return cls(
            clusters=values.pop("clusters", None),
            components=values.pop("components", None),
            coverage=values.pop("coverage", None),
        )

    def set_on(self, organisation: Organisation) -> None:
        if self.clusters is not None:
            organisation.clusters.set(self.clusters)
        if self.components is not None:
            organisation.components.set(self.components)
        if self.coverage is not None:
            organisation.coverage.set(self.coverage)


def _field_label(model: type[models.Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


def organisation_check_regions(organisation: Organisation, coverage: Iterable[Region] | None = None) -> None:
    """Region rules the database cannot hold, each reported at its field."""
    village = organisation.village
    if village is not None and village.level != RegionLevel.VILLAGE:
        raise ApplicationError(_("Choose a village (desa/kelurahan), not a larger region."), field="village")
    home = organisation.home_region
    if home is not None and home.level not in (RegionLevel.PROVINCE, RegionLevel.REGENCY):
        raise ApplicationError(_("The home region is a province or a regency/city."), field="home_region")
    if home is not None and village is not None and not village.code.startswith(home.code):
        raise ApplicationError(
            _("The village %(village)s is not in %(home)s.") % {"village": village.name, "home": home.name},
            field="village",
        )
    if coverage is not None and any(r.level == RegionLevel.VILLAGE for r in coverage):
        raise ApplicationError(
            _("Coverage is given as provinces, regencies/cities or districts, not villages."), field="coverage"
        )


def _fill_defaults(organisation: Organisation) -> None:
    # A pin on the village until someone places it more precisely.
    village = organisation.village
    if village is not None and organisation.latitude is None and organisation.longitude is None:
        organisation.latitude = village.latitude
        organisation.longitude = village.longitude
    if organisation.home_region_id is None and organisation.village_id is not None:
        organisation.home_region_id = organisation.village_id[:4]


def _validate_and_save(organisation: Organisation, *, update_fields: list[str] | None = None) -> None:
    try:
        organisation.full_clean(validate_unique=update_fields is None)
    except ValidationError as exc:
        raise ApplicationError(_first_message(exc), field=_first_field(exc), extra={"errors": exc}) from None
    try:
        with transaction.atomic():
            organisation.save(update_fields=update_fields)
    except IntegrityError:
        raise ApplicationError(
            _("An organisation with code %(code)s already exists.") % {"code": organisation.code}, field="code"
        ) from None


def _first_field(exc: ValidationError) -> str | None:
    if hasattr(exc, "error_dict"):
        return next(iter(exc.error_dict))
    return None


def _first_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        errors = next(iter(exc.error_dict.values()))
        return str(errors[0].messages[0]) if errors else str(exc)
    return str(exc.messages[0])


@transaction.atomic
def organisation_create(
    *,
    code: str,
    name: str,
    kind: str,
    by: User | None = None,
    parent: Organisation | None = None,
    notes: str = "",
    **profile: Unpack[OrganisationProfile],
) -> Organisation:
    """A new organisation. `profile` takes any of ORGANISATION_EDITABLE_FIELDS."""
    unknown = set(profile) - set(ORGANISATION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown organisation fields: {sorted(unknown)}")
    related = _Related.take(profile)
    org = Organisation(code=code.strip().upper(), name=name.strip(), kind=kind, parent=parent, notes=notes, **profile)
    if Organisation.objects.filter(code=org.code).exists():
        raise ApplicationError(
            _("An organisation with code %(code)s already exists.") % {"code": org.code}, field="code"
        )
    organisation_check_regions(org, related.coverage)
    _fill_defaults(org)
    _validate_and_save(org)
    related.set_on(org)
    return org


@transaction.atomic
def organisation_update(
    *,
    organisation: Organisation,
    by: User,
    expected_updated_at: datetime.datetime | None = None,
    **changes: Unpack[OrganisationChanges],
) -> Organisation:
    """Change an organisation. Its admins edit the profile; national admins everything else.

    `expected_updated_at`: when the editor loaded the form. If the row changed since,
    the save is refused rather than silently overwriting the other person's changes.
    """
    require(administer_organisation_refusal(by, organisation))
    unknown = set(changes) - set(ORGANISATION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    national = set(changes) & set(ORGANISATION_NATIONAL_FIELDS)
    if national and not getattr(by, "is_superuser", False):
        raise ApplicationError(
            _("Only a national administrator can change %(fields)s.")
            % {"fields": ", ".join(_field_label(Organisation, f) for f in sorted(national))}
        )
    # Lock the row: two admins saving the profile at once must not interleave.
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        raise ApplicationError(
            _(
                "Someone else saved changes to %(org)s while you were editing. Nothing of yours was saved: "
                "reload the page to see their changes, then make yours again."
            )
            % {"org": locked.name}
        )
    related = _Related.take(changes)
    village_changed = "village" in changes and changes["village"] != locked.village
    for name, value in changes.items():
        setattr(locked, name, value)
    if village_changed and "latitude" not in changes and "longitude" not in changes:
        # A new village moves the pin, unless the user placed the pin themselves.
        locked.latitude = locked.longitude = None
    organisation_check_regions(locked, related.coverage)
    _fill_defaults(locked)
    fields = {*changes, "latitude", "longitude", "home_region", "updated_at"}
    _validate_and_save(locked, update_fields=sorted(fields))
    related.set_on(locked)
    organisation.refresh_from_db()
    return locked


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
    preferred_language: str = User.Language.INDONESIAN,
) -> User:
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            _("The username %(username)s is already taken.") % {"username": username}, field="username"
        )
    user = User(
        username=username,
        email=User.objects.normalize_email(email),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        is_staff=is_staff,
        is_superuser=is_superuser,
        preferred_language=preferred_language,
    )
    if password:
        user.set_password(password)
    else:
        # The person sets their own password through the emailed reset link.
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def membership_add(*, organisation: Organisation, user: User, role: str, by: User | None = None) -> Membership:
    """Give `user` `role` in `organisation` (reactivating a revoked membership)."""
    if by is not None:
        require(administer_organisation_refusal(by, organisation))
    if role not in Role.values:
        raise ApplicationError(_("Unknown role."), field="role")
    if not organisation.is_active:
        raise ApplicationError(_("%(org)s is not active.") % {"org": organisation.name})
    if role == Role.NATIONAL_ADMIN and not organisation.is_national:
        raise ApplicationError(_("National administrators belong to an organisation marked national."), field="role")
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user, organisation=organisation, role=role
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active", "updated_at"])
    forget_actor(user)
    return membership


@transaction.atomic
def staff_invite(
    *, organisation: Organisation, by: User, role: str, username: str, email: str, first_name: str, last_name: str = ""
) -> Membership:
    """An org admin adds a new colleague: account, role, and an email to set a password."""
    require(administer_organisation_refusal(by, organisation))
    if not email:
        raise ApplicationError(_("An email address is needed to send the password link."), field="email")
    user = user_create(username=username, email=email, first_name=first_name, last_name=last_name)
    membership = membership_add(organisation=organisation, user=user, role=role, by=by)
    transaction.on_commit(lambda: _send_password_setup(user))
    return membership


def _send_password_setup(user: User) -> None:
    form = PasswordResetForm(data={"email": user.email})
    if form.is_valid():
        # Unusable passwords are skipped by the default reset form; a new account
        # has one, so send to it explicitly.
        from django.contrib.auth.tokens import default_token_generator
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        site = settings.SITE_URL.rstrip("/")
        context = {
            "email": user.email,
            "domain": site.split("://", 1)[-1],
            "site_name": "ATENSI Portal",
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "protocol": site.split("://", 1)[0],
        }
        form.send_mail(
            "registration/password_reset_subject.txt",
            "registration/account_invite_email.txt",
            context,
            None,
            user.email,
        )


def end_sessions(user: User) -> None:
    """Every session of `user` ends at its next request: the session version is mixed into
    the auth hash Django checks (User._get_session_auth_hash). Recorded in the user's history."""
    User.objects.filter(pk=user.pk).update(session_version=models.F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])


@transaction.atomic
def membership_set_active(*, membership: Membership, by: User, active: bool) -> Membership:
    require(administer_organisation_refusal(by, membership.organisation))
    if not active and membership.user_id == getattr(by, "pk", None) and membership.role == Role.ORG_ADMIN:
        raise ApplicationError(_("You cannot remove your own administrator role."))
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.is_active != active:
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        if not active and not Membership.objects.filter(user_id=locked.user_id, is_active=True).exists():
            # No role left anywhere: whatever the person had open closes now, not at logout.
            end_sessions(locked.user)
    forget_actor(locked.user)
    return locked


# --- Agreements (MoU/PKS) -------------------------------------------------------------

AGREEMENT_EDITABLE_FIELDS = ("number", "title", "scope", "signed_on", "valid_from", "valid_until", "parties")


class AgreementChanges(TypedDict, total=False):
    """What agreement_update may change (AGREEMENT_EDITABLE_FIELDS)."""

    number: str
    title: str
    scope: str
    signed_on: datetime.date
    valid_from: datetime.date
    valid_until: datetime.date
    parties: Iterable[Organisation]


PDF_MAGIC = b"%PDF-"


def agreement_check_document(document: File[bytes]) -> None:
    """A signed agreement is a PDF within ATENSI_AGREEMENT_MAX_BYTES, judged by its bytes, not only its name."""
    if not (getattr(document, "name", "") or "").lower().endswith(".pdf"):
        raise ApplicationError(_("The document must be a PDF file (its name ends in .pdf)."), field="document")
    limit = settings.ATENSI_AGREEMENT_MAX_BYTES
    size = document.size
    if not size:
        raise ApplicationError(_("The document is empty. Upload the signed agreement as a PDF."), field="document")
    if size > limit:
        raise ApplicationError(
            _("The document is %(size)s; the limit is %(limit)s. Scan it at a lower resolution and upload again.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            field="document",
        )
    document.seek(0)
    head = document.read(len(PDF_MAGIC))
    document.seek(0)
    if head != PDF_MAGIC:
        raise ApplicationError(
            _("This file is not a PDF, whatever its name says. Upload the signed agreement as a PDF."),
            field="document",
        )
    # Read through, as every upload: it must parse and carry no script nor attached file.
    refusal = pdf_refusal(document)
    if refusal:
        raise ApplicationError(refusal, field="document")


def _distinct_parties(parties: Iterable[Organisation]) -> list[Organisation]:
    return list({p.pk: p for p in parties}.values())


def _agreement_check(
    *,
    agreement: Agreement,
    parties: list[Organisation],
    by: User,
    today: datetime.date,
    previous_party_ids: frozenset[int] = frozenset(),
) -> None:
    """The rules the database cannot hold, each reported at its field."""
    agreement.number = (agreement.number or "").strip()
    agreement.title = (agreement.title or "").strip()
    agreement.scope = (agreement.scope or "").strip()
    if not agreement.number:
        raise ApplicationError(_("Give the agreement's number, as written on it."), field="number")
    if not agreement.title:
        raise ApplicationError(_("Give the agreement's title."), field="title")
    if agreement.signed_on is not None and agreement.signed_on > today:
        raise ApplicationError(
            _("The signing date cannot be in the future. Record the agreement once it is signed."), field="signed_on"
        )
    if agreement.valid_from is not None and agreement.valid_until is not None:
        if agreement.valid_until < agreement.valid_from:
            raise ApplicationError(_("The end date cannot be before the start date."), field="valid_until")
    if len(parties) < 2:
        raise ApplicationError(_("An agreement needs at least two different parties."), field="parties")
    for party in parties:
        if party.pk not in previous_party_ids and not party.is_active:
            raise ApplicationError(
                _("%(org)s is not active and cannot become a party.") % {"org": party.name}, field="parties"
            )
    require(agreement_parties_refusal(by, parties), field="parties")
    duplicate = (
        Agreement.objects.filter(number__iexact=agreement.number, parties__in=[p.pk for p in parties])
        .exclude(pk=agreement.pk)
        .exists()
    )
    if duplicate:
        raise ApplicationError(
            _("An agreement numbered %(number)s between these organisations is already recorded.")
            % {"number": agreement.number},
            field="number",
        )
    try:
        agreement.full_clean(exclude=["document", "created_by"])
    except ValidationError as exc:
        raise ApplicationError(_first_message(exc), field=_first_field(exc), extra={"errors": exc}) from None


def _agreement_save(
    agreement: Agreement, document: File[bytes] | None, *, update_fields: list[str] | None = None
) -> None:
    """Save the row and, if given, the file under a random name; no file is left behind if the row fails."""
    if document is None:
        agreement.save(update_fields=update_fields)
        return
    agreement.document.save(document.name or "agreement.pdf", document, save=False)
    stored = agreement.document.name or ""
    try:
        with transaction.atomic():
            agreement.save(update_fields=update_fields)
    except Exception:
        agreement.document.storage.delete(stored)
        raise


@transaction.atomic
def agreement_create(
    *,
    by: User,
    number: str,
    title: str,
    scope: str = "",
    signed_on: datetime.date,
    valid_from: datetime.date,
    valid_until: datetime.date,
    parties: Iterable[Organisation],
    document: File[bytes] | None = None,
    today: datetime.date | None = None,
) -> Agreement:
    """Record an MoU/PKS between two or more organisations; `by` administers one of them."""
    today = today or timezone.localdate()
    party_list = _distinct_parties(parties)
    agreement = Agreement(
        number=number,
        title=title,
        scope=scope,
        signed_on=signed_on,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=by if getattr(by, "pk", None) else None,
    )
    _agreement_check(agreement=agreement, parties=party_list, by=by, today=today)
    if document:
        agreement_check_document(document)
    _agreement_save(agreement, document or None)
    agreement.parties.set(party_list)
    return agreement


@transaction.atomic
def agreement_update(
    *,
    agreement: Agreement,
    by: User,
    document: File[bytes] | None = None,
    today: datetime.date | None = None,
    **changes: Unpack[AgreementChanges],
) -> Agreement:
    """Change an agreement (any of AGREEMENT_EDITABLE_FIELDS) or replace its document.

    Administrators of any party may; they may not leave it without a party they administer.
    """
    unknown = set(changes) - set(AGREEMENT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    today = today or timezone.localdate()
    # Lock the row: two party admins saving at once must not interleave.
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    previous = list(locked.parties.all())
    require(change_agreement_refusal(by, previous))
    party_list = _distinct_parties(changes.pop("parties")) if "parties" in changes else previous
    for name, value in changes.items():
        setattr(locked, name, value)
    _agreement_check(
        agreement=locked,
        parties=party_list,
        by=by,
        today=today,
        previous_party_ids=frozenset(p.pk for p in previous),
    )
    old_document = (locked.document.name or "") if document else ""
    if document:
        agreement_check_document(document)
    fields = sorted({*changes, "number", "title", "scope", "updated_at", *(["document"] if document else [])})
    _agreement_save(locked, document or None, update_fields=fields)
    if {p.pk for p in party_list} != {p.pk for p in previous}:
        locked.parties.set(party_list)
    if old_document:
        storage = locked.document.storage
        transaction.on_commit(lambda: storage.delete(old_document))
    agreement.refresh_from_db()
    return locked


# --- Workforce ----------------------------------------------------------------------
WORKFORCE_EDITABLE_FIELDS = (
    "kind",
    "name",
    "nik",
    "phone",
    "regions",
    "certificate_number",
    "certificate_expires",
    "is_active",
    "user",
)


class WorkforceChanges(TypedDict, total=False):
    """What workforce_update may change (WORKFORCE_EDITABLE_FIELDS)."""

    kind: str
    name: str
    nik: str
    phone: str
    regions: Iterable[Region]
    certificate_number: str
    certificate_expires: datetime.date | None
    is_active: bool
    user: User | None


def workforce_check(member: WorkforceMember) -> None:
    """The rules of one workforce record, each as an ApplicationError at its field. No queries.

    The NIK goes through parse_nik first for a message that says which part is wrong (the
    field validator only says "invalid"); uniqueness of (NIK, kind) is the caller's query.
    The spreadsheet import (stakeholders/imports/) runs this on every row.
    """
    member.nik = normalise_nik(member.nik)
    try:
        parse_nik(member.nik)
    except ValidationError as exc:
        raise ApplicationError(str(exc.messages[0]), field="nik") from None
    try:
        # Organisation and user are assigned by the service, never typed; the check
        # constraints repeat the field validators, and uniqueness is checked below.
        member.full_clean(exclude=["organisation", "user"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ApplicationError(_first_message(exc), field=_first_field(exc), extra={"errors": exc}) from None


def _workforce_duplicate_error(member: WorkforceMember) -> ApplicationError:
    return ApplicationError(
        _("A worker with NIK %(nik)s is already registered as %(kind)s.")
        % {"nik": member.nik, "kind": member.get_kind_display()},
        field="nik",
    )


def _workforce_save(member: WorkforceMember, *, update_fields: list[str] | None = None) -> None:
    clash = WorkforceMember.objects.filter(nik=member.nik, kind=member.kind).exclude(pk=member.pk)
    if clash.exists():
        raise _workforce_duplicate_error(member)
    try:
        with transaction.atomic():
            member.save(update_fields=update_fields)
    except IntegrityError:
        # Someone registered the same person in the same role a moment ago.
        raise _workforce_duplicate_error(member) from None


@transaction.atomic
def workforce_create(
    *,
    organisation: Organisation,
    by: User,
    kind: str,
    name: str,
    nik: str,
    phone: str = "",
    regions: Iterable[Region] = (),
    certificate_number: str = "",
    certificate_expires: datetime.date | None = None,
    is_active: bool = True,
    user: User | None = None,
) -> WorkforceMember:
    """Register a field worker with `organisation`. `by` administers it (None: commands, tests)."""
    if by is not None:
        require(administer_organisation_refusal(by, organisation))
    member = WorkforceMember(
        organisation=organisation,
        kind=kind,
        name=(name or "").strip(),
        nik=nik,
        phone=(phone or "").strip(),
        certificate_number=(certificate_number or "").strip(),
        certificate_expires=certificate_expires,
        is_active=is_active,
        user=user,
    )
    workforce_check(member)
    _workforce_save(member)
    if regions:
        member.regions.set(regions)
    return member


@transaction.atomic
def workforce_update(*, member: WorkforceMember, by: User, **changes: Unpack[WorkforceChanges]) -> WorkforceMember:
    """Change a worker's record; `changes` takes any of WORKFORCE_EDITABLE_FIELDS."""
    require(administer_organisation_refusal(by, member.organisation))
    unknown = set(changes) - set(WORKFORCE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    locked = WorkforceMember.objects.select_for_update().get(pk=member.pk)
    regions = changes.pop("regions", None)
    for field_name, value in changes.items():
        setattr(locked, field_name, value.strip() if isinstance(value, str) else value)
    workforce_check(locked)
    _workforce_save(locked, update_fields=sorted({*changes, "updated_at"}))
    if regions is not None:
        locked.regions.set(regions)
    member.refresh_from_db()
    return locked


@transaction.atomic
def reach_target_set(*, organisation: Organisation, year: int, target: int, by: User) -> ReachTarget:
    """Set (or change) the organisation's target of children reached in `year`."""
    require(set_reach_target_refusal(by))
    existing = ReachTarget.objects.select_for_update().filter(organisation=organisation, year=year).first()
    row = existing or ReachTarget(organisation=organisation, year=year)
    row.target = target
    try:
        row.full_clean()
    except ValidationError as exc:
        raise ApplicationError(_first_message(exc), field=_first_field(exc)) from exc
    if existing is None:
        row.save()
    else:
        row.save(update_fields=["target"])
    return row
