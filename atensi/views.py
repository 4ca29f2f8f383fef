"""Core pages: home, health check, error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from stakeholders.selectors import memberships_of_user

from .health import check_database, check_redis


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    memberships = memberships_of_user(request.user)
    return render(request, "atensi/home.html", {"memberships": memberships})


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
