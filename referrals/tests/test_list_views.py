"""The referral lists: the inbox, what was sent, the per-organisation figures.

Who sees which referral, what the receiver learns of the child before answering (the
first name, age and kab/kota, never the full name or the NIK), the order (overdue first),
the tabs and their counts, keyset pages, and the figures on a known set of referrals.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.tests.factories import BeneficiaryFactory, open_case, village
from referrals import lists
from referrals.figures import Figures, format_duration, format_percent, referral_figures
from referrals.lists import INBOX, OUTBOX, ListFilters
from referrals.models import Referral, ReferralKind, ReferralStatus
from referrals.selectors import overdue_count
from referrals.services import referral_accept, referral_cancel, referral_complete, referral_decline
from referrals.tests.test_services import consent_to_share, send
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db

INBOX_URL = reverse("referrals:inbox")
OUTBOX_URL = reverse("referrals:outbox")
FIGURES_URL = reverse("referrals:figures")
TELANAIPURA = "1571011004"  # Kota Jambi
NIK = "1571015505100001"
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def officer(other_org):
    """A referral officer of the receiving organisation."""
    return member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="officer")


@pytest.fixture
def third_org():
    return OrganisationFactory(code="LKSA-KETIGA", name="LKSA Ketiga")


def refer(sender_org, by, receiver, *, name="", nik="", urgency="normal", confidential=False, **kwargs):
    """A referral of a fresh case of `sender_org` to `receiver`, with the consent to share."""
    child = BeneficiaryFactory(
        organisation=sender_org,
        created_by=by,
        full_name=name or "Anak Uji",
        nik=nik,
        birth_date=datetime.date(2014, 3, 2),
        village=village(TELANAIPURA),
        regency_code=TELANAIPURA[:4],
    )
    case = open_case(organisation=sender_org, by=by, beneficiary=child, is_confidential=confidential)
    consent_to_share(case, receiver, by=by)
    return send(case, by, receiver, urgency=urgency, **kwargs)


def make_overdue(referral, *, days_late=1):
    now = timezone.now()
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=now - (days_late + 7) * DAY, respond_by=now - days_late * DAY
    )


def get(client, url=INBOX_URL, **params):
    return client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")


def figures_card(client, **params):
    """The inbox's figures card, as htmx asks for it once the inbox is shown."""
    return client.get(FIGURES_URL, {"days": "90", **params}, HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true")


def pks(response):
    return [row.pk for row in response.context["page"].rows]


def values(counts):
    """The tab counts as numbers (each a capped Tally)."""
    return {tab: tally.value for tab, tally in counts.items()}


def list_html(response):
    """The list region (tabs, table, pages) of a page: the figures and filters left out."""
    return response.content.decode().split('data-testid="referral-list"', 1)[1]


# --- The inbox -------------------------------------------------------------------------------


def test_the_inbox_lists_the_overdue_first_and_marks_them(client_for, org, owner, other_org, officer):
    normal = refer(org, owner, other_org, name="Budi Santoso")
    emergency = refer(org, owner, other_org, name="Rina Wati", urgency="emergency")
    late = refer(org, owner, other_org, name="Fajar Ramadhan")
    make_overdue(late)
    response = get(client_for(officer))
    assert response.status_code == 200
    # Overdue first, then the nearest deadline (the emergency's 24 hours before the normal's 7 days).
    assert pks(response) == [late.pk, emergency.pk, normal.pk]
    rows = response.context["page"].rows
    assert [r.overdue for r in rows] == [True, False, False]
    html = list_html(response)
    assert html.count('data-testid="overdue-badge"') == 1
    assert html.index(f'data-referral="{late.pk}" data-overdue') < html.index(f'data-referral="{emergency.pk}"')
    assert "1 day late" in html and "in 23 hours" in html
    assert response.context["counts"]["overdue"].value == 1
    assert 'data-testid="tab-overdue">1 overdue' in html


def test_the_deadline_is_shown_in_jakarta_time_and_relative(client_for, org, owner, other_org, officer):
    referral = refer(org, owner, other_org)
    due = timezone.now().replace(microsecond=0) + 3 * DAY
    due = due.replace(hour=3, minute=0, second=0, tzinfo=datetime.UTC)  # 10:00 WIB
    Referral.objects.filter(pk=referral.pk).update(respond_by=due)
    html = list_html(get(client_for(officer)))
    assert "10 a.m." in html and "3 a.m." not in html
    row = get(client_for(officer)).context["page"].rows[0]
    assert row.due_label.startswith("in ") and not row.overdue


def test_the_receiver_sees_the_first_name_age_and_kabkota_never_the_full_name_or_nik(
    client_for, org, owner, other_org, officer
):
    referral = refer(org, owner, other_org, name="Melati Sari Dewi", nik=NIK)
    html = get(client_for(officer)).content.decode()
    assert "Melati" in html and "Kota Jambi" in html
    age = referral.case.beneficiary.age()
    assert f"{age} years" in html
    for secret in ("Sari Dewi", "Dewi", NIK, NIK[-4:], referral.case.number):
        assert secret not in html
    row = get(client_for(officer)).context["page"].rows[0]
    assert row.first_name == "Melati" and row.child == "" and row.case_number == ""
    # Still only the first name once accepted: the list is no place for the case file.
    referral_accept(referral=referral, by=officer)
    html = get(client_for(officer), status="accepted").content.decode()
    assert "Melati" in html and "Sari Dewi" not in html and NIK not in html


def test_tabs_list_each_status_with_all_counts_in_one_query(
    client_for, org, owner, other_org, officer, django_assert_max_num_queries
):
    waiting = refer(org, owner, other_org)
    accepted = referral_accept(referral=refer(org, owner, other_org), by=officer)
    declined = referral_decline(referral=refer(org, owner, other_org), by=officer, reason="no_capacity")
    done = referral_accept(referral=refer(org, owner, other_org), by=officer)
    done = referral_complete(referral=done, by=officer, outcome="Konseling selesai.")
    cancelled = referral_cancel(referral=refer(org, owner, other_org), by=owner, reason="Keluarga pindah.")
    expected = {"sent": 1, "accepted": 1, "completed": 1, "declined": 1, "cancelled": 1, "overdue": 0}
    filters = ListFilters(box=INBOX)
    with django_assert_max_num_queries(2):  # the user's roles, then the counts
        assert values(lists.tab_counts(officer, filters)) == expected
    client = client_for(officer)
    for status, referral in [
        ("sent", waiting),
        ("accepted", accepted),
        ("declined", declined),
        ("completed", done),
        ("cancelled", cancelled),
    ]:
        response = get(client, status=status)
        assert pks(response) == [referral.pk], status
        html = list_html(response)
        assert f'data-testid="tab-{status}">' in html
        assert 'class="nav-link text-nowrap active" aria-current="page" href="?status=' + status in html
        for tab in expected:
            if tab != "overdue":
                assert f'data-testid="tab-count-{tab}">1<' in html
    # The sender's side has the same tabs and counts.
    assert values(lists.tab_counts(owner, ListFilters(box=OUTBOX))) == expected
    # An unknown status is the waiting tab, not an error.
    assert pks(get(client, status="nonsense")) == [waiting.pk]


def test_a_tab_counts_to_its_cap_then_says_so(client_for, org, owner, other_org, officer):
    """A Balai receives hundreds of thousands: each tab counts to CAP and shows "1.000+",
    never reading the whole box."""
    from atensi.core.counting import CAP

    model = referral_decline(referral=refer(org, owner, other_org), by=officer, reason="no_capacity")
    fields = [f for f in Referral._meta.concrete_fields if not f.primary_key]
    Referral.objects.bulk_create(
        [Referral(**{f.attname: getattr(model, f.attname) for f in fields}) for _ in range(CAP)]
    )
    make_overdue(refer(org, owner, other_org))
    response = get(client_for(officer), status="declined")
    assert values(response.context["counts"]) == {
        "sent": 1,
        "accepted": 0,
        "completed": 0,
        "declined": CAP + 1,
        "cancelled": 0,
        "overdue": 1,
    }
    html = list_html(response)
    assert 'data-testid="tab-count-declined">1,000+<' in html
    assert 'data-testid="tab-count-sent">1<' in html and 'data-testid="tab-overdue">1 overdue' in html
    assert len(pks(response)) == lists.PAGE_SIZE


def test_a_closed_referral_shows_the_child_as_referred(client_for, org, owner, other_org, officer):
    declined = referral_decline(
        referral=refer(org, owner, other_org, name="Melati Sari"), by=officer, reason="other", note="Penuh."
    )
    waiting = refer(org, owner, other_org, name="Budi Santoso")
    # Later the owner records a new name and a move to Kota Padang (a safe house, say).
    for referral, name in ((declined, "Kenanga Putri"), (waiting, "Bagus Santoso")):
        child = referral.case.beneficiary
        child.full_name, child.regency_code, child.village = name, "1371", village("1371111002")
        child.save()
    html = list_html(get(client_for(officer), status="declined"))
    assert "Melati" in html and "Kota Jambi" in html
    assert "Kenanga" not in html and "Kota Padang" not in html
    # A referral still waiting shows the child as recorded now: the receiver decides on today's facts.
    row = get(client_for(officer)).context["page"].rows[0]
    assert (row.first_name, row.regency) == ("Bagus", "Kota Padang")
    # A referral without a record of the child (none made when it was sent) shows no child at all.
    Referral.objects.filter(pk=declined.pk).update(child_summary={})
    row = get(client_for(officer), status="declined").context["page"].rows[0]
    assert (row.first_name, row.age, row.regency) == ("", None, "")


def test_a_confidential_transfer_accepted_by_the_receiver_follows_the_case(
    client_for, org, owner, other_org, officer, django_assert_max_num_queries
):
    supervisor = member(organisation=other_org, role=Role.SUPERVISOR)
    manager = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    referral = refer(org, owner, other_org, name="Dinda Rahasia", kind=ReferralKind.TRANSFER)
    referral_accept(referral=referral, by=supervisor, case_manager=manager)
    type(referral.case).objects.filter(pk=referral.case_id).update(is_confidential=True)
    # The receiver's officer may not open the (now their own, confidential) case: neither the row nor its count.
    response = get(client_for(officer), status="accepted")
    assert pks(response) == [] and response.context["counts"]["accepted"].value == 0
    response = get(client_for(manager), status="accepted")
    assert pks(response) == [referral.pk] and response.context["counts"]["accepted"].value == 1


def test_answered_tabs_are_newest_first(client_for, org, owner, other_org, officer):
    older = referral_accept(referral=refer(org, owner, other_org), by=officer)
    newer = referral_accept(referral=refer(org, owner, other_org), by=officer)
    Referral.objects.filter(pk=older.pk).update(sent_at=timezone.now() - 3 * DAY)
    assert pks(get(client_for(officer), status="accepted")) == [newer.pk, older.pk]


def test_a_third_organisations_referrals_never_appear(client_for, org, owner, other_org, officer, third_org):
    fourth = OrganisationFactory(code="LKSA-KEEMPAT", name="LKSA Keempat")
    stranger = member(organisation=third_org, role=Role.SOCIAL_WORKER, username="stranger")
    theirs = refer(third_org, stranger, fourth, name="Orang Lain")
    ours = refer(org, owner, other_org, name="Budi Santoso")
    to_third = refer(org, owner, third_org, name="Rina Wati")
    for status in ("sent", "accepted"):
        assert theirs.pk not in pks(get(client_for(officer), status=status))
    assert pks(get(client_for(officer))) == [ours.pk]
    assert "Orang" not in get(client_for(officer)).content.decode()
    assert set(pks(get(client_for(owner), OUTBOX_URL))) == {ours.pk, to_third.pk}
    assert pks(get(client_for(owner))) == []
    # The third organisation sees what was sent to it, and what it sent, nothing else.
    assert pks(get(client_for(stranger))) == [to_third.pk]
    assert pks(get(client_for(stranger), OUTBOX_URL)) == [theirs.pk]
    assert lists.tab_counts(officer, ListFilters(box=INBOX))["sent"].value == 1


def test_a_user_of_two_organisations_sees_both_and_can_filter(client_for, org, owner, other_org, third_org):
    both = member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="both")
    member_of_third = member(organisation=third_org, role=Role.SUPERVISOR)
    both.memberships.create(organisation=third_org, role=Role.SOCIAL_WORKER)
    to_other = refer(org, owner, other_org, name="Budi Santoso")
    to_third = refer(org, owner, third_org, name="Rina Wati")
    make_overdue(to_third)
    client = client_for(both)
    response = get(client)
    assert pks(response) == [to_third.pk, to_other.pk]
    # Counted organisation by organisation (each on its own index range), then added up.
    assert values(response.context["counts"])["sent"] == 2 and values(response.context["counts"])["overdue"] == 1
    assert response.context["many_orgs"]
    html = response.content.decode()
    # The receiver's name on each row, the filter, the figures of both organisations.
    assert 'data-testid="referral-org-filter"' in html
    assert f'hx-get="{FIGURES_URL}?days=90"' in html
    assert figures_card(client).content.decode().count('data-testid="figures-row"') == 2
    response = get(client, org=third_org.pk)
    assert pks(response) == [to_third.pk]
    assert values(response.context["counts"])["sent"] == values(response.context["counts"])["overdue"] == 1
    assert f'hx-get="{FIGURES_URL}?days=90&amp;org={third_org.pk}"' in response.content.decode()
    card = figures_card(client, org=third_org.pk).content.decode()
    assert card.count('data-testid="figures-row"') == 1 and f'data-organisation="{third_org.pk}"' in card
    assert pks(get(client, org=other_org.pk)) == [to_other.pk]
    assert pks(get(client_for(member_of_third))) == [to_third.pk]


@pytest.mark.parametrize("bad", ["999999", "abc", "-1", "1" * 30, "²"])
def test_an_organisation_not_theirs_shows_all_of_theirs_with_a_message(client_for, org, owner, other_org, officer, bad):
    referral = refer(org, owner, other_org)
    response = get(client_for(officer), org=bad if bad != "999999" else org.pk)
    assert response.status_code == 200
    assert pks(response) == [referral.pk]
    assert "You do not work for that organisation" in response.content.decode()


def test_pages_are_keyed_and_a_bad_cursor_is_the_first_page(client_for, org, owner, other_org, officer):
    made = [refer(org, owner, other_org, urgency=u) for u in ("normal", "high", "emergency", "normal", "high")]
    make_overdue(made[0], days_late=2)
    make_overdue(made[3], days_late=1)
    filters = ListFilters(box=INBOX)
    everything = [r.pk for r in lists.referral_page(officer, filters, size=50).rows]
    assert everything[:2] == [made[0].pk, made[3].pk]
    seen, cursor = [], None
    for _ in range(3):
        page = lists.referral_page(officer, filters, cursor=cursor, size=2)
        seen += [r.pk for r in page.rows]
        cursor = page.next_cursor
    assert seen == everything and cursor is None
    # Five rows fit on the view's page: no "next" link; a cursor takes the view on.
    first = get(client_for(officer))
    assert first.context["page"].next_cursor is None and 'data-testid="next-page"' not in first.content.decode()
    page = lists.referral_page(officer, filters, size=2)
    assert page.next_cursor is not None
    response = get(client_for(officer), cursor=page.next_cursor)
    assert pks(response) == everything[2:]
    assert not response.context["page"].is_first
    for token in ("garbage", page.next_cursor[:-3] + "abc"):
        assert pks(get(client_for(officer), cursor=token)) == everything
    # A cursor of one tab means nothing on another.
    assert pks(get(client_for(officer), status="accepted", cursor=page.next_cursor)) == []


def test_answered_pages_are_keyed_newest_first(org, owner, other_org, officer):
    made = [referral_accept(referral=refer(org, owner, other_org), by=officer) for _ in range(5)]
    filters = ListFilters(box=INBOX, status=ReferralStatus.ACCEPTED)
    seen, cursor = [], None
    for _ in range(3):
        page = lists.referral_page(officer, filters, cursor=cursor, size=2)
        seen += [r.pk for r in page.rows]
        cursor = page.next_cursor
    assert seen == [r.pk for r in reversed(made)]


# --- Who may open the lists -------------------------------------------------------------------


def test_those_who_work_no_cases_get_404(client_for, org, owner, other_org, outsider):
    refer(org, owner, other_org)
    reporter = member(organisation=org, role=Role.COMMUNITY_REPORTER)
    viewer = member(organisation=org, role=Role.VIEWER)
    for user in (outsider, reporter, viewer):
        for url in (INBOX_URL, OUTBOX_URL, FIGURES_URL):
            assert get(client_for(user), url).status_code == 404, (user, url)


def test_anonymous_is_sent_to_log_in_and_post_is_refused(client, client_for, officer):
    for url in (INBOX_URL, OUTBOX_URL, FIGURES_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert client_for(officer).post(url).status_code == 405


def test_a_superuser_without_organisations_gets_empty_lists(client_for, org, owner, other_org, superuser):
    refer(org, owner, other_org)
    for url in (INBOX_URL, OUTBOX_URL, FIGURES_URL):
        assert get(client_for(superuser), url).status_code == 200
    assert pks(get(client_for(superuser))) == []


# --- The outbox --------------------------------------------------------------------------------


def test_the_outbox_shows_the_receiver_and_the_childs_name_to_those_who_may_read_the_case(
    client_for, org, owner, supervisor, other_org, officer
):
    referral = refer(org, owner, other_org, name="Melati Sari Dewi", nik=NIK)
    late = refer(org, owner, other_org, name="Fajar Ramadhan")
    make_overdue(late)
    for user in (owner, supervisor):
        response = get(client_for(user), OUTBOX_URL)
        assert pks(response) == [late.pk, referral.pk]
        html = list_html(response)
        assert "Melati Sari Dewi" in html and "Balai Anak Lain" in html
        assert referral.case.number in html
        assert html.count('data-testid="overdue-badge"') == 1
        assert NIK not in html
    # The receiver has no outbox rows for it.
    assert pks(get(client_for(officer), OUTBOX_URL)) == []


def test_a_confidential_case_stays_hidden_or_masked_in_the_outbox(
    client_for, org, owner, colleague, supervisor, other_org
):
    secret = refer(org, owner, other_org, name="Dinda Rahasia", confidential=True)
    # The colleague may not open the case: its referrals are not theirs to list.
    assert pks(get(client_for(colleague), OUTBOX_URL)) == []
    assert "Dinda" not in get(client_for(colleague), OUTBOX_URL).content.decode()
    assert "Dinda Rahasia" in get(client_for(supervisor), OUTBOX_URL).content.decode()
    # A colleague who also works for the receiver sees the referral (as receiver) in the
    # outbox of their organisations, masked: the case number and the receiver only.
    colleague.memberships.create(organisation=other_org, role=Role.REFERRAL_OFFICER)
    response = get(client_for(colleague), OUTBOX_URL)
    assert pks(response) == [secret.pk]
    row = response.context["page"].rows[0]
    assert row.masked and row.child == "" and row.first_name == "" and row.age is None and row.regency == ""
    html = list_html(response)
    assert "Confidential case" in html and "Dinda" not in html and secret.case.number in html


def test_the_sender_keeps_the_child_as_handed_over_after_an_accepted_transfer(
    client_for, org, owner, colleague, supervisor, other_org
):
    new_supervisor = member(organisation=other_org, role=Role.SUPERVISOR)
    manager = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    referral = refer(org, owner, other_org, name="Budi Santoso", kind=ReferralKind.TRANSFER)
    referral_accept(referral=referral, by=new_supervisor, case_manager=manager)
    child = referral.case.beneficiary
    child.full_name = "Bagus Santoso"  # recorded by the new owner
    child.save()
    for user in (owner, supervisor):  # the worker who sent it, the sender's supervisor
        response = get(client_for(user), OUTBOX_URL, status="accepted")
        assert pks(response) == [referral.pk]
        assert response.context["page"].rows[0].child == "Budi Santoso"
        assert "Bagus" not in list_html(response)
    # A colleague keeps nothing of a case handed over.
    response = get(client_for(colleague), OUTBOX_URL, status="accepted")
    assert pks(response) == [] and response.context["counts"]["accepted"].value == 0


# --- Query counts --------------------------------------------------------------------------------


@pytest.fixture
def thirty(org, owner, other_org, officer):
    """30 referrals to other_org: 20 waiting (5 overdue), 6 accepted, 4 declined."""
    made = [refer(org, owner, other_org, urgency=("normal", "high", "emergency")[i % 3]) for i in range(30)]
    for referral in made[:5]:
        make_overdue(referral)
    for referral in made[20:26]:
        referral_accept(referral=referral, by=officer)
    for referral in made[26:]:
        referral_decline(referral=referral, by=officer, reason="no_capacity")
    return made


@pytest.mark.parametrize("status", ["sent", "accepted"])
def test_the_inbox_makes_a_fixed_number_of_queries(client_for, officer, thirty, status, django_assert_max_num_queries):
    client = client_for(officer)
    # Session, user, roles, organisation names, tab counts, rows, services, kab/kota names,
    # the navigation's counts: none of it grows with the rows.
    with django_assert_max_num_queries(9):
        response = get(client, status=status)
    assert len(response.context["page"].rows) == (20 if status == "sent" else 6)


def test_the_outbox_and_figures_make_a_fixed_number_of_queries(
    client_for, owner, officer, thirty, django_assert_max_num_queries
):
    sender, receiver = client_for(owner), client_for(officer)
    with django_assert_max_num_queries(9):  # as the inbox
        response = get(sender, OUTBOX_URL)
    assert len(response.context["page"].rows) == 20
    with django_assert_max_num_queries(6):
        response = get(receiver, FIGURES_URL)
    assert response.context["figures"][0][1].waiting == 20
    with django_assert_max_num_queries(5):  # the card: session, user, roles, names, figures
        response = figures_card(receiver)
    assert response.context["figures"][0][1].waiting == 20


def test_a_page_of_rows_is_three_queries(officer, thirty, django_assert_num_queries):
    lists.tab_counts(officer, ListFilters())  # the user's roles are looked up once, then cached
    # The rows, their requested services, the kab/kota names.
    with django_assert_num_queries(3):
        page = lists.referral_page(officer, ListFilters(), size=50)
        [(r.services, r.regency, r.first_name) for r in page.rows]
    assert len(page.rows) == 20


# --- Figures ----------------------------------------------------------------------------------


def _answered(referral, *, status, by, sent_ago, took, owner=None):
    """Answer `referral` (accept, decline, complete, cancel after accepting) and set when."""
    if status == "declined":
        referral_decline(referral=referral, by=by, reason="no_capacity")
    else:
        referral_accept(referral=referral, by=by)
        if status == "completed":
            referral_complete(referral=referral, by=by, outcome="Selesai.")
        elif status == "cancelled":
            referral_cancel(referral=referral, by=owner, reason="Keluarga pindah.")
    now = timezone.now()
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=now - sent_ago, respond_by=now - sent_ago + 7 * DAY, answered_at=now - sent_ago + took
    )


def test_figures_on_a_known_set(org, owner, other_org, officer, third_org, django_assert_num_queries):
    made = [refer(org, owner, other_org) for _ in range(7)]
    _answered(made[0], status="accepted", by=officer, sent_ago=10 * DAY, took=1 * HOUR)
    _answered(made[1], status="declined", by=officer, sent_ago=10 * DAY, took=3 * HOUR)
    _answered(made[2], status="completed", by=officer, sent_ago=20 * DAY, took=5 * HOUR)
    # Accepted, then cancelled by the sender: the receiver did answer, and answered yes.
    _answered(made[3], status="cancelled", by=officer, sent_ago=30 * DAY, took=2 * DAY + 3 * HOUR, owner=owner)
    # Answered long before the period: not counted at all.
    _answered(made[4], status="accepted", by=officer, sent_ago=200 * DAY, took=HOUR)
    make_overdue(made[5])  # waiting and overdue; made[6] waiting within its deadline
    with django_assert_num_queries(1):
        figures = referral_figures(organisation_ids=[other_org.pk, third_org.pk])
    mine = figures[other_org.pk]
    assert (mine.received, mine.answered, mine.accepted, mine.waiting, mine.overdue) == (6, 4, 3, 2, 1)
    # Median of 1 h, 3 h, 5 h and 51 h: (3 + 5) / 2 = 4 hours.
    assert mine.median_response == 4 * HOUR
    assert mine.median_label == "4 hours"
    assert mine.acceptance_rate == 0.75 and mine.rate_label == "75%"
    assert mine.overdue == overdue_count(organisation_id=other_org.pk)
    # The third organisation received nothing: zeros, and nothing to compute a median from.
    assert figures[third_org.pk] == Figures(organisation_id=third_org.pk, since=mine.since)
    assert figures[third_org.pk].median_label == "—" and figures[third_org.pk].rate_label == "—"
    # A shorter period leaves the 20- and 30-day-old ones out.
    week = referral_figures(organisation_ids=[other_org.pk], since=timezone.now() - 15 * DAY)[other_org.pk]
    assert (week.received, week.answered, week.accepted, week.median_response) == (4, 2, 1, 2 * HOUR)
    assert referral_figures(organisation_ids=[]) == {}


def test_figures_with_nothing_answered_show_a_dash(client_for, org, owner, other_org, officer):
    refer(org, owner, other_org)
    figures = referral_figures(organisation_ids=[other_org.pk])[other_org.pk]
    assert (figures.received, figures.answered, figures.waiting) == (1, 0, 1)
    assert figures.median_response is None and figures.acceptance_rate is None
    card = figures_card(client_for(officer))
    html = card.content.decode()
    assert 'data-testid="figure-median">—<' in html and 'data-testid="figure-rate">—<' in html
    # Only the table: htmx puts it in the inbox's card.
    assert "<html" not in html and 'data-testid="referral-figures"' in html
    assert "HX-Request" in card["Vary"]


def test_the_figures_page_lists_the_users_organisations_for_a_period(client_for, org, owner, other_org, officer):
    referral = refer(org, owner, other_org)
    _answered(referral, status="accepted", by=officer, sent_ago=40 * DAY, took=2 * DAY + 3 * HOUR)
    client = client_for(officer)
    response = get(client, FIGURES_URL)
    assert response.context["figures_days"] == 90
    html = response.content.decode()
    assert "Balai Anak Lain" in html and "2 days 3 hours" in html and "100%" in html
    assert "Balai Anak Uji" not in html  # the sender's figures are not the officer's
    response = get(client, FIGURES_URL, days="30")
    assert response.context["figures_days"] == 30
    assert 'data-testid="figure-median">—<' in response.content.decode()
    assert get(client, FIGURES_URL, days="7000").context["figures_days"] == 90


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (2 * DAY + 3 * HOUR + datetime.timedelta(minutes=10), "2 days 3 hours"),
        (DAY, "1 day"),
        (5 * HOUR + datetime.timedelta(minutes=20), "5 hours 20 minutes"),
        (datetime.timedelta(minutes=1, seconds=30), "1 minute"),
        (datetime.timedelta(seconds=20), "0 minutes"),
    ],
)
def test_durations_read_as_people_say_them(delta, text):
    assert format_duration(delta) == text


def test_percentages_are_whole():
    assert format_percent(2 / 3) == "67%" and format_percent(1) == "100%"


def test_the_figures_card_is_kept_a_minute_for_its_reader_and_says_when_it_was_counted(
    client_for, settings, org, owner, other_org, officer
):
    """A Balai's figures read a hundred thousand referrals: the drawn card is kept
    (atensi.core.fragments) per reader, period and organisations, and says its time."""
    import time_machine

    settings.ATENSI_FRAGMENT_SECONDS = 60
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"figures-{uuid.uuid4().hex}"}}
    colleague = member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="colleague")
    refer(org, owner, other_org)
    moment = datetime.datetime(2026, 12, 8, 2, 15, tzinfo=datetime.UTC)  # 09:15 in Jakarta
    with time_machine.travel(moment, tick=False):
        first = figures_card(client_for(officer)).content.decode()
    assert 'data-testid="figure-waiting">1<' in first and "at 9:15 a.m. WIB, when these figures were counted" in first
    refer(org, owner, other_org, name="Anak Kedua")
    # The same reader within the minute: the kept card, its time with it.
    assert figures_card(client_for(officer)).content.decode() == first
    # Another period, or another reader, is counted now.
    assert 'data-testid="figure-waiting">2<' in figures_card(client_for(officer), days="30").content.decode()
    assert 'data-testid="figure-waiting">2<' in figures_card(client_for(colleague)).content.decode()
    # The figures page holds the same table.
    assert 'data-testid="figure-waiting">1<' in get(client_for(officer), FIGURES_URL).content.decode()
    # A reader in Makassar reads the time in WITA.
    makassar = OrganisationFactory(code="DINSOS-7371", name="Dinas Sosial Makassar", home_region_id="73")
    east = member(organisation=makassar, role=Role.REFERRAL_OFFICER, username="makassar")
    with time_machine.travel(moment, tick=False):
        assert "at 10:15 a.m. WITA, when these figures were counted" in figures_card(client_for(east)).content.decode()
