"""Core models: the programme's reference data and the access log."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .audit import audited
from .notification_kinds import validate_kind


class ReferenceItem(models.Model):
    """A coded item of the programme's own lists, named in Indonesian and English."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_id = models.CharField(_("name (Indonesian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "id").startswith("en") else self.name_id


@audited()
class Cluster(ReferenceItem):
    """The five ATENSI clusters (klaster)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")


@audited()
class ServiceComponent(ReferenceItem):
    """The seven ATENSI service components."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("ATENSI service component")
        verbose_name_plural = _("ATENSI service components")


@audited()
class AmpkCategory(ReferenceItem):
    """Children in need of special protection, UU 35/2014 Pasal 59(2)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("AMPK category")
        verbose_name_plural = _("AMPK categories")


@audited()
class PpksType(ReferenceItem):
    """Social welfare problem types (PPKS), Permensos 8/2012."""

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("usual cluster"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta(ReferenceItem.Meta):
        verbose_name = _("PPKS type")
        verbose_name_plural = _("PPKS types")


class AccessLog(models.Model):
    """Who viewed, downloaded or exported which record. Append-only; written by atensi.core.access."""

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        DOWNLOAD = "download", _("downloaded")
        EXPORT = "export", _("exported")
        PRINT = "print", _("printed")
        # A record asked for that exists but is not the requester's to see (stakeholders.denials).
        DENIED = "denied", _("refused")
        # A registration search that touched the record, or found nothing (cases.beneficiaries.screening).
        SEARCH = "search", _("found in a search")
        # The searcher asked the organisation holding a confidential child's record to call.
        CONTACT = "contact", _("contact requested")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    # Generic target without a database FK: the log outlives what it describes.
    target_type = models.CharField(_("record type"), max_length=100)
    target_id = models.CharField(_("record id"), max_length=64)
    target_label = models.CharField(_("record"), max_length=200, blank=True)
    organisation_id = models.BigIntegerField(_("organisation acted for"), null=True, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-at"], name="accesslog_target"),
            models.Index(fields=["user", "-at"], name="accesslog_user"),
            # When a user last opened a record's page (the home page's "since I last looked").
            models.Index(
                fields=["user", "target_type", "target_id", "-at"],
                condition=Q(action="view"),
                name="accesslog_user_view",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.target_type}:{self.target_id}"


class RateEvent(models.Model):
    """One counted attempt of a rate limit (atensi.core.ratelimit): the key names the limit
    and who is limited (an address, a keyed hash of an e-mail address, a user), never a
    personal value in clear."""

    key = models.CharField(_("key"), max_length=200)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("rate-limited attempt")
        verbose_name_plural = _("rate-limited attempts")
        indexes = [models.Index(fields=["key", "at"], name="rate_event_key_at")]

    def __str__(self) -> str:
        return f"{self.key} {self.at:%Y-%m-%d %H:%M}"


class SubmissionToken(models.Model):
    """A form submission already processed: a double-clicked submit is saved once.

    Forms carry a random token; the view inserts it in the same transaction as the
    write, so the second submit of the same form hits the primary key and is refused.
    """

    token = models.UUIDField(_("token"), primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")

    def __str__(self) -> str:
        return str(self.token)


class Notification(models.Model):
    """Something a user should know about, shown in the portal (and later e-mailed).

    `data` holds codes and names, never translated text: the message is rendered in the
    reader's language (atensi.core.notifications). Notifications never carry a child's
    name; the link leads to a page that checks access again. `key` makes one event
    notify a person once, however often the code that reports it runs.
    """

    # Indexed by notification_recipient and the unique (recipient, key), which lead with it:
    # a reminder batch writes thousands of rows, each index is one more write per row.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    organisation = models.ForeignKey(
        "stakeholders.Organisation",
        verbose_name=_("for organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=40, validators=[validate_kind])
    data = models.JSONField(_("details"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    key = models.CharField(_("event key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Set by the e-mail delivery once the message has left.
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~Q(key=""), name="notification_once_per_event"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class Reminder(models.Model):
    """Something to tell one person at a moment: the state of every reminder lives here.

    A rule (atensi.core.reminders) writes each reminder once — `key` names the event and the
    person, so planning the same event again adds nothing. Every minute the sweep claims
    the due ones (skipping rows another sweep holds) and queues their delivery in batches
    after its commit; a delivery whose task vanished (a worker killed, the broker down) is
    claimed again once `claimed_at` is old. What was delivered on which channel is in
    ReminderDelivery, unique per channel: the bell rings once, an e-mail goes again only if
    a worker died between the mail server's acceptance and its group's record.
    """

    # Unique by reminder_key_once, which also serves the prefix searches of the rules.
    key = models.CharField(_("event key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40, validators=[validate_kind])
    # Indexed by reminder_recipient, which leads with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,
    )
    organisation = models.ForeignKey(
        "stakeholders.Organisation",
        verbose_name=_("for organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"))
    # The bell may come earlier than the e-mail: a follow-up due today is in the bell from
    # the start of the local day, its e-mail waits for the morning (nobody is e-mailed at
    # midnight). Empty: every channel at `due_at`.
    email_from = models.DateTimeField(_("e-mail not before"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    # An event already shown in the bell when it happened (a referral arriving): the
    # reminder only e-mails it, marking this row e-mailed. Empty for a reminder of its own.
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # reminder_notification: the few that have one
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed by a sweep"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    # The thing no longer needs it (the follow-up was done, the referral answered). A
    # reminder whose bell rang before its e-mail's time may be cancelled in between: its
    # notification stays (as every delivered one does), the e-mail is not sent.
    cancelled_at = models.DateTimeField(_("no longer needed"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_at", "pk"]
        indexes = [
            # The sweep: open reminders by due time (delivered/cancelled rows drop out).
            models.Index(
                fields=["due_at"],
                condition=Q(delivered_at__isnull=True, cancelled_at__isnull=True),
                name="reminder_open_due",
            ),
            models.Index(fields=["recipient", "-due_at"], name="reminder_recipient"),
            # A notification deleted (retention) deletes its e-mail's reminder.
            models.Index(
                fields=["notification"], condition=Q(notification__isnull=False), name="reminder_notification"
            ),
        ]
        constraints = [
            # One index for the key's uniqueness and the rules' prefix searches (key LIKE
            # 'follow-up:12:%'): every index is one more write for each of the two updates
            # a reminder gets (claimed, delivered), a hundred thousand at a time.
            models.UniqueConstraint(fields=["key"], name="reminder_key_once", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.key


class ReminderDelivery(models.Model):
    """One reminder delivered on one channel; the unique pair is the exactly-once guard."""

    class Channel(models.TextChoices):
        APP = "app", _("in the portal")
        EMAIL = "email", _("e-mail")

    # Indexed by the unique (reminder, channel), which leads with it.
    reminder = models.ForeignKey(
        Reminder, verbose_name=_("reminder"), on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    at = models.DateTimeField(_("delivered"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder delivery")
        verbose_name_plural = _("reminder deliveries")
        constraints = [models.UniqueConstraint(fields=["reminder", "channel"], name="reminder_delivery_once")]

    def __str__(self) -> str:
        return f"{self.reminder_id} {self.channel}"


class NotificationPreference(models.Model):
    """How a person wants to hear from the portal besides the bell (default: an e-mail per
    reminder). No row means the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email_enabled = models.BooleanField(_("e-mail me"), default=True)
    digest = models.BooleanField(_("one daily digest instead of single e-mails"), default=False)
    digest_hour = models.PositiveSmallIntegerField(_("digest hour (local time)"), default=7)
    last_digest_on = models.DateField(_("last digest sent for"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(condition=Q(digest_hour__lte=23), name="notification_digest_hour_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: e-mail {'on' if self.email_enabled else 'off'}"


class ExportJob(models.Model):
    """A spreadsheet made in the background for one person (atensi.core.exports): what was
    asked (the export source and its filter), how far it got, and the file once made."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting")
        RUNNING = "running", _("being made")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(_("export"), max_length=50)
    # The filter as [name, value] pairs (a query string's), and its digest: the same request
    # twice is found by (user, source, params_key).
    params = models.JSONField(_("filter"), default=list, blank=True)
    params_key = models.CharField(_("filter digest"), max_length=64)
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            # The same export asked for twice while one is being made is that one job.
            models.UniqueConstraint(
                fields=["user", "source", "params_key"],
                condition=Q(status__in=["queued", "running"]),
                name="exportjob_one_active_per_request",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(expires_at__isnull=False) & ~Q(file_name="")),
                name="exportjob_done_has_file",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="exportjob_user"),
            models.Index(fields=["expires_at"], condition=Q(status="done"), name="exportjob_done_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.pk} ({self.status})"


class ErasureRun(models.Model):
    """One run of the retention (anonymisation) of beneficiaries whose purpose ended
    (atensi.erasure): who or what started it, what it changed, table by table. It is the
    account of the erasure, so it names no child: ids of anonymised records only. Never
    deleted (admin lists it read-only)."""

    class Trigger(models.TextChoices):
        COMMAND = "command", _("management command")
        BEAT = "beat", _("monthly schedule")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        # Found still "running" by a later run: its process died; what it committed stays.
        INTERRUPTED = "interrupted", _("interrupted")

    id = models.UUIDField(_("run id"), primary_key=True, default=uuid.uuid4, editable=False)
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RUNNING)
    # Rows changed (or, in a dry run, that would change) per table: {"cases.case": 3, ...}.
    counts = models.JSONField(_("rows per table"), default=dict, blank=True)
    beneficiaries = models.PositiveIntegerField(_("beneficiaries anonymised"), default=0)
    beneficiary_ids = models.JSONField(_("ids of the beneficiaries"), default=list, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="running") | Q(finished_at__isnull=False), name="erasurerun_finished_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}{' (dry run)' if self.dry_run else ''}"
