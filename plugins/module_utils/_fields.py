# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A daemon's settings declared once, each as a `Field`: the argument spec and the option documentation
derived from the declarations, each value checked (bounds, then the field's own check) with every bad one
reported at once, and the field's rendering into the daemon's configuration. keepalived's instances and
scripts (_keepalived) and nginx's upstreams and servers (_nginx) are declared this way. Pure functions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    BAD_INPUT,
    collect,
    errors_of,
    integer,
    number,
    raise_error,
    sub,
)


def number_text(value: float) -> str:
    """A number as configurations write it: 2, not 2.0; 0.5 as 0.5."""
    return str(int(value)) if value == int(value) else f"{value:g}"


@dataclass(frozen=True)
class Field:
    """One keepalived setting a user gives.

    `check(field, value, params)` returns the normalized value or raises InputError; `bounds` (low,
    high) check numbers before it. `render(field, value)` returns the configuration lines of a set
    value (without the block's indentation); None renders nothing. `keyword` is keepalived's spelling
    when it is not the name.
    """

    name: str
    type: str
    doc: tuple[str, ...]
    default: Any = None
    choices: tuple = ()
    bounds: tuple | None = None
    elements: str | None = None
    options: tuple[Field, ...] = ()
    required: bool = False
    no_log: bool = False
    keyword: str | None = None
    check: Callable[[str, Any, dict], Any] | None = None
    render: Callable[[Field, Any], list[str]] | None = None
    shared: bool = False
    role: bool = True
    per_node: str | None = None
    role_doc: tuple[str, ...] = ()

    @property
    def word(self) -> str:
        return self.keyword or self.name

    def argument_spec(self) -> dict:
        spec: dict = {"type": self.type}
        for key in ("elements", "default", "choices"):
            value = getattr(self, key)
            if value not in (None, ()):
                spec[key] = list(value) if key == "choices" else copy.deepcopy(value)
        if self.required:
            spec["required"] = True
        if self.no_log:
            spec["no_log"] = True
        if self.options:
            spec["options"] = argument_spec(self.options)
        return spec

    def documentation(self, role: bool = False) -> dict:
        """The option's documentation; `role`: as the keepalived_ha role's instances document it."""
        text = list(self.role_doc if role and self.role_doc else self.doc)
        if self.bounds:
            text.append(f"From V({number_text(self.bounds[0])}) to V({number_text(self.bounds[1])}).")
        doc = {"description": text, **{key: value for key, value in self.argument_spec().items()
                                       if key not in ("options", "no_log")}}
        if self.options:
            doc["suboptions"] = options_doc(self.options)
        return doc

    def value(self, field: str, value: Any, params: dict) -> Any:
        """The value checked (bounds, then `check`), or the default when it is not set."""
        if value is None:
            return copy.deepcopy(self.default)
        if self.bounds:
            low, high = self.bounds
            value = integer(field, value, low, high) if self.type == "int" else number(field, value, low, high)
        return self.check(field, value, params) if self.check else value


def argument_spec(fields) -> dict:
    return {field.name: field.argument_spec() for field in fields}


def options_doc(fields, role: bool = False) -> dict:
    return {field.name: field.documentation(role) for field in fields}


def checked(fields, params: dict, parent: str = "", partial: dict | None = None) -> dict:
    """Every field of `params` checked, every bad one reported at once: {name: normalized value}. With
    `partial`, the fields that passed are put there before the errors are raised."""
    values, errors = {}, []
    for field in fields:
        try:
            values[field.name] = field.value(sub(parent, field.name), params.get(field.name), params)
        except BAD_INPUT as exc:
            errors += errors_of(exc)
    if partial is not None:
        partial.update(values)
    collect([lambda error=error: raise_error(error) for error in errors])
    return values


def checked_items(field: Field, values: list, parent: str) -> list[dict]:
    """The items of a list of blocks (a field with `options`), each checked field by field and its nested lists of
    blocks likewise, every bad field of every item reported at once: [{name: normalized value}]. `parent` names
    where the list sits ('' at the top)."""
    plain_fields = tuple(inner for inner in field.options if not inner.options)
    block_fields = tuple(inner for inner in field.options if inner.options)

    def one(index: int, entry: dict) -> dict:
        """An item's own fields and its nested blocks, every bad one reported."""
        where = sub(parent, f"{field.name}[{index}]")
        result: dict = {}

        def nested(inner: Field) -> None:
            result[inner.name] = checked_items(inner, entry.get(inner.name) or [], where)

        collect([lambda: result.update(checked(plain_fields, entry, where)),
                 *(lambda inner=inner: nested(inner) for inner in block_fields)])
        return result
    return collect([lambda index=index, entry=entry: one(index, entry) for index, entry in enumerate(values or [])])
