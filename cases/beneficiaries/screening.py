"""The registration search, watched: it must find a child registered elsewhere (so no
duplicate is made) without becoming a way to find out where children are.

- Every search is written to the access log (`AccessLog.Action.SEARCH`): who, when, each
  record it touched (or one row saying it found nothing) and whose record that is. A
  searched NIK is stored only as a keyed hash (atensi.core.ratelimit.keyed_hash), never
  in clear; a searched name not at all; the path without its query string.
- Searches that find other organisations' children are limited per user
  (ATENSI_FOREIGN_MATCHES_PER_HOUR, counted in PostgreSQL): past the limit those matches
  are withheld with a message. Matches in the user's own organisations and searches that
  find nothing do not count — a supervisor registering forty children after a street
  outreach is not stopped.
- A child held in a confidential case elsewhere is shown as "registered elsewhere" only
  (cases.beneficiaries.search); `request_contact` asks that organisation's supervisors to
  get in touch, and they decide whether to. Recorded on both sides: the requester's
  access log (`CONTACT`) and the holders' bell.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from atensi.core.clientip import client_ip
from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog
from atensi.core.notifications import notify, register
from atensi.core.ratelimit import allow, keyed_hash
from stakeholders.models import Organisation, User
from stakeholders.roles import Role

from ..models import Beneficiary
from ..notification_kinds import NotificationKind
from ..selectors import members_with_roles
from .search import CONTACT_SALT, SearchResult, beneficiary_search

HOUR = datetime.timedelta(hours=1)
# A contact request's token is good for a day after the search that showed it.
CONTACT_TOKEN_MAX_AGE = 24 * 3600


def _withheld(result: SearchResult) -> SearchResult:
    mine = result.nik_match if result.nik_match is not None and result.nik_match.visible else None
    return SearchResult(
        nik_match=mine, matches=[m for m in result.matches if m.visible], searched=result.searched, limited=True
    )


def screened_search(
    *,
    user: User,
    request: HttpRequest,
    full_name: str = "",
    nik: str = "",
    birth_year: int | None = None,
    regency_code: str = "",
) -> SearchResult:
    """beneficiary_search, limited and logged (see the module's docstring)."""
    result = beneficiary_search(
        user=user, full_name=full_name, nik=nik, birth_year=birth_year, regency_code=regency_code
    )
    # The log says what the search touched, shown or withheld.
    if result.searched:
        _log(user=user, request=request, nik=nik, result=result)
    if result.foreign and not allow(
        f"foreign-match:{user.pk}", limit=settings.ATENSI_FOREIGN_MATCHES_PER_HOUR, window=HOUR
    ):
        result = _withheld(result)
    return result


def search_label(nik: str) -> str:
    """How the search log names a searched NIK (a keyed hash), so that the retention run
    (atensi.erasure) can find the searches for a child's NIK and clear them."""
    return f"NIK {keyed_hash(nik)[:16]}" if nik else ""


def _log(*, user: User, request: HttpRequest, nik: str, result: SearchResult) -> None:
    touched = [m.pk for m in ([result.nik_match] if result.nik_match else []) + result.matches]
    holders = dict(Beneficiary.objects.filter(pk__in=touched).values_list("pk", "organisation_id"))
    label = search_label(nik)
    common = {"user_id": user.pk, "action": AccessLog.Action.SEARCH, "path": request.path[:300]}
    ip = client_ip(request)
    rows = [
        AccessLog(
            target_type="cases.beneficiary",
            target_id=str(pk),
            target_label=label,
            organisation_id=holders.get(pk),
            ip_address=ip,
            **common,
        )
        for pk in touched
    ] or [AccessLog(target_type="cases.beneficiary", target_id="", target_label=label, ip_address=ip, **common)]
    AccessLog.objects.bulk_create(rows)


@register(NotificationKind.CONTACT_REQUESTED)
def _contact_text(data: dict[str, object]) -> str:
    return _(
        "%(requester)s (%(organisation)s) searched before registering a child and found a child you hold in a "
        "confidential case. They ask you to contact them%(email)s; you decide whether to."
    ) % {
        "requester": data["requester"],
        "organisation": data.get("requester_organisation") or "-",
        "email": f" ({data['requester_email']})" if data.get("requester_email") else "",
    }


def limit_message() -> str:
    return _(
        "You reached the limit of %(count)s searches an hour that find children registered with other "
        "organisations, so such matches are not shown now. Matches in your own organisation still are; "
        "try again later."
    ) % {"count": settings.ATENSI_FOREIGN_MATCHES_PER_HOUR}


@transaction.atomic
def request_contact(*, by: User, token: str, request: HttpRequest) -> None:
    """Ask the supervisors of the organisation holding a confidential child's record to
    contact the searcher. Asked twice the same day, they hear it once."""
    try:
        pk = signing.loads(token, salt=CONTACT_SALT, max_age=CONTACT_TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise ApplicationError(_("This request is too old or not valid. Search again, then ask.")) from None
    beneficiary = Beneficiary.objects.select_related("organisation").filter(pk=pk, merged_into__isnull=True).first()
    if beneficiary is None:
        raise ApplicationError(_("This record no longer exists. Search again."))
    holders = beneficiary.organisation
    supervisors = members_with_roles(organisation_ids=[holders.pk], roles=[Role.SUPERVISOR]).exclude(pk=by.pk)
    asking = ", ".join(
        Organisation.objects.filter(pk__in=actor_for(by).org_ids()).order_by("name").values_list("name", flat=True)
    )
    notify(
        recipients=list(supervisors),
        kind=NotificationKind.CONTACT_REQUESTED,
        organisation=holders,
        link=reverse("cases:beneficiary_detail", args=[beneficiary.pk]),
        key=f"contact:{by.pk}:{beneficiary.pk}:{timezone.localdate().isoformat()}",
        requester=by.get_full_name() or by.username,
        requester_organisation=asking,
        requester_email=by.email,
    )
    AccessLog.objects.create(
        user=by,
        action=AccessLog.Action.CONTACT,
        target_type="cases.beneficiary",
        target_id=str(beneficiary.pk),
        target_label="",
        organisation_id=holders.pk,
        path=request.path[:300],
        ip_address=client_ip(request),
    )
