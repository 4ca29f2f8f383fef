"""What the case models share: the user model's name, the choices used across cases,
beneficiaries and reports, and the private upload path.
"""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")


class Stage(models.TextChoices):
    """The case-management stages in their order, then closed."""

    PENDEKATAN_AWAL = "pendekatan_awal", _("Intake and engagement")
    ASESMEN = "asesmen", _("Assessment")
    PERENCANAAN = "perencanaan", _("Intervention planning")
    INTERVENSI = "intervensi", _("Intervention")
    MONITORING_EVALUASI = "monitoring_evaluasi", _("Monitoring and evaluation")
    TERMINASI = "terminasi", _("Termination")
    BIMBINGAN_LANJUT = "bimbingan_lanjut", _("Aftercare")
    CLOSED = "closed", _("Closed")


STAGE_ORDER: list[str] = [s.value for s in Stage]
OPEN_STAGES: list[str] = STAGE_ORDER[:-1]


class Basis(models.TextChoices):
    KELUARGA = "keluarga", _("Family-based")
    KOMUNITAS = "komunitas", _("Community-based")
    RESIDENSIAL = "residensial", _("Residential")


class CaseSource(models.TextChoices):
    COMMUNITY_REPORT = "community_report", _("Community report")
    WALK_IN = "walk_in", _("Walk-in")
    POLICE = "police", _("Police")
    SCHOOL = "school", _("School")
    COURT = "court", _("Court / Bapas")
    PKH = "pkh", _("PKH")
    REFERRAL = "referral", _("Referral from another organisation")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class ClosureReason(models.TextChoices):
    GOALS_MET = "goals_met", _("Goals met")
    TRANSFERRED = "transferred", _("Transferred")
    MOVED_AWAY = "moved_away", _("Moved away")
    TURNED_18 = "turned_18", _("Turned 18, passed to the adult cluster")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    REFUSED = "refused", _("Refused services")
    DIED = "died", _("Died")


def private_upload_path(prefix: str, filename: str) -> str:
    # Never the user's file name: it is shown to nobody and must not be guessable.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    ext = ext if ext.isalnum() and len(ext) <= 5 else "bin"
    return f"{prefix}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class CaseCopy(models.ForeignKey):  # type: ignore[type-arg]
    """A column of the row's case copied onto the row, so that the row is read from an
    index of its own (an organisation's pending follow-ups and approvals on a supervisor's
    home page and queue), not by joining the organisation's every case.

    The database keeps it (migrations cases 0013, 0014): a trigger writes it from the case
    on insert and whenever the row's case is set (copied_from_case), and a change of the
    case (a transfer, a new supervisor) moves its rows in the same transaction. Whatever the
    code sends is replaced; the value the trigger wrote comes back with the INSERT
    (db_returning)."""

    @property
    def db_returning(self) -> bool:
        return True


def copied_from_case(*columns: str) -> pgtrigger.Trigger:
    """The trigger that writes the row's CaseCopy `columns` (the case's columns of the same
    names): on insert, and when the row's case (or a copy itself) is set, whatever the code
    sent."""
    quoted = ", ".join(f'"{column}"' for column in columns)
    into = ", ".join(f'NEW."{column}"' for column in columns)
    return pgtrigger.Trigger(
        name="copied_from_case",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.UpdateOf("case_id", *columns),  # type: ignore[no-untyped-call]
        # FOR SHARE: a transfer moving the case at this moment either commits first (this
        # row then reads where it went) or waits for this row's transaction, and moves it.
        func=f'SELECT {quoted} INTO {into} FROM "cases_case" WHERE "id" = NEW."case_id" FOR SHARE; RETURN NEW;',  # noqa: S608 - column names of the models, never input
    )
