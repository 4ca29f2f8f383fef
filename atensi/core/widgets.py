"""Form widgets whose markup is written in Python where Django's templates cost too much.

Django renders each <option> of a select through a template of its own: a list filter's
select of 250 case managers took about 15 ms of a 50 ms page. `FastSelect` writes the
same markup (the same attributes, escaping and "selected") from Python.
"""

from __future__ import annotations

from html import escape as _escape
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe


def _escaped(value: Any) -> str:
    """`conditional_escape` without its lazy-string wrapper (a third of its cost): text is
    escaped, safe markup (anything with `__html__`) is kept, a lazy string is made first."""
    if type(value) is str:
        return _escape(value)
    if isinstance(value, Promise):
        value = str(value)
    html = getattr(value, "__html__", None)
    return str(html()) if html is not None else _escape(str(value))


def format_html(template: str, *args: Any, **kwargs: Any) -> SafeString:
    """Django's `format_html`, the same output (tested), at a fraction of its cost: a page
    of 50 case rows and its filter selects calls it about 800 times."""
    if not (args or kwargs):
        # As Django's: a template with nothing to escape is a mistake (format_html(user_text)).
        raise TypeError("args or kwargs must be provided.")
    return SafeString(template.format(*map(_escaped, args), **{k: _escaped(v) for k, v in kwargs.items()}))


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """Attributes as Django's attrs.html writes them: in order, True bare, False left out."""
    return mark_safe(  # noqa: S308 - every part escaped by format_html
        "".join(
            format_html(" {}", key) if value is True else format_html(' {}="{}"', key, value)
            for key, value in attrs.items()
            if value is not False
        )
    )


def _choices(source: Any) -> list[tuple[Any, Any]]:
    """A select's choices as a list. A model field's are read with one plain query: its own
    iterator reads them through QuerySet.iterator(), a server-side cursor (DECLARE ... WITH
    HOLD), and list() would first ask it len(), a COUNT."""
    if isinstance(source, forms.models.ModelChoiceIterator):
        field = source.field
        head = [("", field.empty_label)] if field.empty_label is not None else []
        return head + [source.choice(obj) for obj in source.queryset]
    return [choice for choice in source]


class FastSelect(forms.Select):
    """A plain select (no option groups, one value) rendered without per-option templates."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        choices = _choices(self.choices)
        if any(isinstance(label, list | tuple) for _value, label in choices):
            return super().render(name, value, attrs, renderer)  # option groups: Django's way
        chosen = self.format_value(value)  # a list of strings
        final = self.build_attrs(self.attrs, attrs)
        parts: list[str] = [format_html('<select name="{}"{}>', name, _attributes(final))]
        found = False
        for option_value, label in choices:
            text = "" if option_value is None else str(option_value)
            selected = not found and text in chosen
            found = found or selected
            # Each value and label escaped as format_html does, without its call per option
            # (a select of 250 case managers).
            mark = " selected" if selected else ""
            parts.append(f'\n  <option value="{_escaped(text)}"{mark}>{_escaped(label)}</option>')
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part escaped above


# Input types written here; any other widget is rendered by Django (as_widget).
_INPUT_CLASSES = {"text": "textinput", "search": "textinput", "date": "dateinput", "email": "emailinput"}


def _checkbox_html(bound: forms.BoundField, widget: forms.CheckboxInput, attrs: dict[str, Any]) -> SafeString:
    """What CheckboxInput writes: checked by its check_test, a value only for a non-boolean."""
    value = bound.value()
    final = bound.build_widget_attrs({**widget.attrs, **attrs})
    head: dict[str, Any] = {"type": "checkbox", "name": bound.html_name}
    if value not in ("", True, False, None):
        head["value"] = widget.format_value(value)
    tail = {"id": bound.auto_id, "checked": True} if widget.check_test(value) else {"id": bound.auto_id}
    return format_html("<input{}>", _attributes({**head, **final, **tail}))


def _widget_html(bound: forms.BoundField, attrs: dict[str, Any]) -> SafeString:
    widget = bound.field.widget
    if type(widget) is forms.CheckboxInput:
        return _checkbox_html(bound, widget, attrs)
    input_type = getattr(widget, "input_type", None)
    if input_type not in _INPUT_CLASSES or widget.is_hidden:
        return bound.as_widget(attrs=attrs)
    final = bound.build_widget_attrs({**widget.attrs, **attrs})
    value = widget.format_value(bound.value())
    head = {"type": final.pop("type", input_type), "name": bound.html_name}
    if value is not None:
        head["value"] = value
    return format_html("<input{}>", _attributes({**head, **final, "id": bound.auto_id}))


def _css_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "checkboxinput form-check-input"
    if isinstance(widget, forms.Select):
        return f"{type(widget).__name__.lower()} form-select"
    input_type = getattr(widget, "input_type", "")
    return f"{_INPUT_CLASSES.get(input_type, type(widget).__name__.lower())} form-control"


def bootstrap_field(bound: forms.BoundField) -> SafeString:
    """A field in crispy-forms' Bootstrap 5 markup (the same ids, classes and ARIA: the
    label, the widget, its errors and help text), written in Python: crispy's templates cost
    about 3 ms a field, a list page's filter form has seventeen."""
    field_id = bound.auto_id
    widget = bound.field.widget
    errors = list(bound.errors)
    attrs: dict[str, Any] = {"class": _css_class(widget) + (" is-invalid" if errors else "")}
    if errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field_id}_error"
    elif bound.help_text:
        attrs["aria-describedby"] = f"{field_id}_helptext"
    control = _widget_html(bound, attrs)
    feedback = mark_safe("")
    if errors:
        feedback = format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            field_id,
            mark_safe(  # noqa: S308 - each part escaped by format_html
                "".join(
                    format_html('<p id="error_{}_{}"><strong>{}</strong></p>', n, field_id, e)
                    for n, e in enumerate(errors, 1)
                )
            ),
        )
    help_text = (
        format_html('<div id="{}_helptext" class="form-text">{}</div>', field_id, bound.help_text)
        if bound.help_text
        else mark_safe("")
    )
    required = mark_safe('<span class="asteriskField">*</span>') if bound.field.required else mark_safe("")
    label_class = " requiredField" if bound.field.required else ""
    if isinstance(widget, forms.CheckboxInput):
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check">'
            '{}<label for="{}" class="form-check-label{}">{}{}</label>{}{}</div></div>',
            field_id,
            control,
            field_id,
            label_class,
            bound.label,
            required,
            feedback,
            help_text,
        )
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="form-label{}">{}{}</label>{}{}{}</div>',
        field_id,
        field_id,
        label_class,
        bound.label,
        required,
        control,
        feedback,
        help_text,
    )
