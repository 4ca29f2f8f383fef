"""The project's own pages: home ("Hari ini", composed in atensi/today.py), health check, error
pages, the notification list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from atensi.core.access import get_or_404
from atensi.core.health import check_database, check_redis
from atensi.core.notifications import mark_read, notification_text, notifications_for, safe_link
from atensi.today import today_for
from stakeholders.http import AuthenticatedRequest
from stakeholders.selectors import memberships_of_user


@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    memberships = list(memberships_of_user(request.user))
    today = today_for(request.user, memberships)
    # The navigation's approvals badge is the page's own count (atensi.context_processors).
    request.approvals_waiting = today.approvals_waiting()  # type: ignore[attr-defined]
    return render(request, "atensi/home.html", {"memberships": memberships, "today": today})


@never_cache
@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_state = check_database()
    redis_ok, redis_state = check_redis()
    healthy = db_ok and redis_ok
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": db_state, "redis": redis_state},
        status=200 if healthy else 503,
    )


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


NOTIFICATIONS_PER_PAGE = 50


@require_GET
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    rows = notifications_for(request.user).select_related("organisation")
    page = Paginator(rows, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    items = [(n, notification_text(n)) for n in page.object_list]
    return render(request, "atensi/notifications.html", {"page": page, "items": items})


@require_GET
def notification_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go where it points (the target checks access again).

    A GET that writes, deliberately: it is the link in the list (and later in e-mails).
    The worst another site can do with it is mark one of the user's notifications read."""
    notification = get_or_404(notifications_for(request.user), pk=pk)
    mark_read(user=request.user, notification_ids=[notification.pk])
    return redirect(safe_link(notification) or "notifications")


@require_POST
def notifications_read_all(request: AuthenticatedRequest) -> HttpResponse:
    mark_read(user=request.user)
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications")
