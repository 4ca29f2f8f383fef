"""`{{ form.field|bootstrap_field }}`: crispy-forms' field markup without its templates, for
pages where rendering the form costs more than the query (atensi.core.widgets)."""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

from atensi.core.widgets import bootstrap_field as render_field

register = template.Library()


@register.filter
def bootstrap_field(bound: forms.BoundField) -> SafeString:
    return render_field(bound)
