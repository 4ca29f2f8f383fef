"""`{{ request|path_without_nik }}`: the page's own path and query, for the "come back here"
fields (the language switch's `next`), without any parameter whose value is a NIK. A NIK
that arrived in an address (typed by hand, an old bookmark) is not searched by the portal's
pages, and must not be carried on into a redirect's Location or the next page's links."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

from atensi.core.values import is_nik_shaped, normalise_nik

register = template.Library()


@register.filter
def path_without_nik(request: HttpRequest) -> str:
    query = request.GET.copy()
    for name in list(query):
        values = [v for v in query.getlist(name) if not is_nik_shaped(normalise_nik(v))]
        if values:
            query.setlist(name, values)
        else:
            del query[name]
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path
