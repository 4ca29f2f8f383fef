"""A child with something in every place the retention run must reach, for its tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pghistory
from django.core.files.base import ContentFile
from django.utils import timezone

from atensi.core.access import record_access
from atensi.core.models import AccessLog, ExportJob, ServiceComponent
from atensi.testing.files import pdf_bytes
from cases.beneficiaries.screening import search_label
from cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Assessment,
    Beneficiary,
    Case,
    CaseNote,
    ClosureReason,
    Consent,
    Document,
    FamilyMember,
    FollowUp,
    FollowUpStatus,
    PlanItem,
    PlanItemStatus,
    ReportRecipient,
    SharingOverride,
    Stage,
    SubjectAccessRequest,
    TimelineKind,
)
from cases.services import timeline_add
from cases.tests.factories import BeneficiaryFactory, open_case, report_for, village
from referrals.models import Referral, ReferralMessage
from referrals.services import child_summary

NAME = "Siti Rahmawati Zulkarnaen"
# Words that identify the child or her family, looked for in every column after a run.
NEEDLES = ("Rahmawati", "Zulkarnaen", "1571015705150001", "1571010101100002", "1571014404800003", "Sitiku")
NIK = "1571015705150001"
KK = "1571010101100002"
MOTHER_NIK = "1571014404800003"


@dataclass
class Child:
    beneficiary: Beneficiary
    case: Case
    document: Document
    family: FamilyMember
    referral: Referral


def close(case: Case, at: datetime.datetime) -> None:
    Case.objects.filter(pk=case.pk).update(stage=Stage.CLOSED, closed_at=at, closure_reason=ClosureReason.GOALS_MET)


def child(
    *, org: Any, by: Any, receiver: Any, name: str = NAME, nik: str = NIK, birth_date: datetime.date | None = None
) -> Child:
    """A child with a case at `org` holding everything, referred to `receiver`, searched for,
    viewed and exported; the case left open (close it with `close`)."""
    now = timezone.now()
    # Every identifying word derives from the name and NIK, so that two children share none.
    first, family_name = name.split()[0], name.split()[-1]
    kk, mother_nik = (KK, MOTHER_NIK) if nik == NIK else (nik[:12] + "7777", nik[:12] + "8888")
    with pghistory.context(user=by.pk, url=f"/cases/beneficiaries/?q={name.replace(' ', '+')}"):
        b = BeneficiaryFactory.create(
            organisation=org,
            created_by=by,
            full_name=name,
            alias=f"{first}ku",
            nik=nik,
            kk_number=kk,
            birthplace=f"Desa {family_name}",
            address=f"Jl. {family_name} No. 7",
            school_name=f"SDN {name.split()[1]}",
            village=village(),
            regency_code="1571",
            sex="F",
            birth_date=birth_date or datetime.date(2015, 5, 17),
        )
        b.photo.save("foto.jpg", ContentFile(b"\xff\xd8 photo of the child"), save=True)
        report = report_for(
            organisation=org,
            by=by,
            child_name=name,
            reporter_name=f"Bu {family_name}",
            reporter_phone="081234567890",
            location_detail=f"rumah {family_name}",
            narrative=f"{name} tidur di pasar",
        )
        ReportRecipient.objects.filter(report=report).update(note=f"untuk {name}")
        case = open_case(organisation=org, by=by, beneficiary=b, summary=f"{name} tidur di pasar")
        Case.objects.filter(pk=case.pk).update(report=report)
        family = FamilyMember.objects.create(
            beneficiary=b, relation="mother", name=f"Ibu {family_name}", nik=mother_nik, phone="081298765432"
        )
        Assessment.objects.create(
            case=case,
            assessed_on=now.date(),
            problems=f"{name} putus sekolah",
            needs={"1": f"{name} butuh makan"},
            conclusion=f"{name} perlu pengasuhan",
            author=by,
        )
        CaseNote.objects.create(
            case=case, kind="home_visit", occurred_on=now.date(), participants=name, narrative=name, author=by
        )
        FollowUp.objects.create(
            case=case,
            kind="home_visit",
            due_on=now.date(),
            assignee=by,
            description=f"Kunjungi {name}",
            status=FollowUpStatus.MISSED,
            missed_reason=f"{name} pindah",
            created_by=by,
        )
        PlanItem.objects.create(
            case=case,
            component=ServiceComponent.objects.order_by("pk").first(),
            service=f"Sekolahkan {name}",
            start_date=now.date(),
            target_date=now.date(),
            status=PlanItemStatus.DONE,
            outcome=f"{name} kembali sekolah",
            done_at=now,
            created_by=by,
        )
        Consent.objects.create(
            case=case,
            given_by=family,
            given_by_name=f"Ibu {family_name}",
            relation="mother",
            given_on=now.date(),
            notes=name,
            recorded_by=by,
        )
        content = pdf_bytes()
        document = Document.objects.create(
            case=case,
            kind="akta",
            title=f"Akta {name}",
            file=ContentFile(content, name="akta.pdf"),
            original_name=f"akta {name}.pdf",
            content_type="application/pdf",
            size=len(content),
            sha256="0" * 64,
            uploaded_by=by,
        )
        Approval.objects.create(
            case=case,
            kind=ApprovalKind.CLOSURE,
            status=ApprovalStatus.REJECTED,
            requested_by=by,
            request_note=name,
            closure_reason=ClosureReason.GOALS_MET,
            closure_summary=name,
            decided_by=by,
            decided_at=now,
            comment=f"{name} belum siap",
        )
        SharingOverride.objects.create(case=case, organisation=receiver, reason=f"darurat {name}", decided_by=by)
        timeline_add(case=case, kind=TimelineKind.CONSENT, actor=by, action="given", given_by_name=f"Ibu {family_name}")
        timeline_add(case=case, kind=TimelineKind.MERGE, actor=by, merged_id=1, merged_name=name)
        referral = Referral.objects.create(
            case=case,
            kind="service",
            sender=org,
            receiver=receiver,
            sent_by=by,
            respond_by=now + datetime.timedelta(days=3),
            reason=f"Rujuk {name}",
            child_summary=child_summary(case),
        )
        ReferralMessage.objects.create(referral=referral, author=by, organisation=org, body=f"Tentang {name}")
        # The family asked for her data (the register names who asked and what was said).
        SubjectAccessRequest.objects.create(
            organisation=org,
            beneficiary=b,
            requester_name=f"Ibu {family_name}",
            requester_relation="mother",
            received_at=now,
            due_at=now + datetime.timedelta(hours=72),
            notes=f"KTP ibu {name} diperiksa",
            status="answered",
            recorded_by=by,
            answered_at=now,
            answered_by=by,
            answer=f"Berkas {name} diserahkan",
        )
        # Seen, downloaded, found by a search (NIK as a keyed hash), before and after she
        # was registered, and listed with a search typed with her name.
        record_access(user=by, obj=b)
        record_access(user=by, obj=document, action="download")
        record_access(user=by, obj=report)
        AccessLog.objects.create(
            user=by,
            action=AccessLog.Action.VIEW,
            target_type="cases.case",
            target_id=str(case.pk),
            path=f"/cases/?q={name.split()[1]}",
        )
        ExportJob.objects.create(user=by, source="cases", params=[["q", name]], params_key=f"k{b.pk}")
        for target in ("", str(b.pk)):
            AccessLog.objects.create(
                user=by,
                action=AccessLog.Action.SEARCH,
                target_type="cases.beneficiary",
                target_id=target,
                target_label=search_label(nik),
            )
    return Child(beneficiary=b, case=case, document=document, family=family, referral=referral)
