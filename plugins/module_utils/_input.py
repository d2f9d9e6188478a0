# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""User input, one way for the whole collection: the error every module and filter raises for a bad
value (the field, the value, why), the checks they share, and a module's input as one object that the
module itself and the roles' preflight on the controller run alike.

Pure functions; the argument-spec validation is ansible-core's own (the one AnsibleModule runs).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

# The value of an error that names a field only (a missing or duplicated item).
NOVALUE = object()
# How a secret's value is shown, as the collection's diffs mask passwords.
SECRET = "'********'"
# Interface names as the kernel takes them: 1-15 characters, no blank, '/' or ':' (':' only in an
# IPv4 label, which is not an interface).
INTERFACE = re.compile(r"^[A-Za-z0-9_.@-]{1,15}$")
# A name the collection writes into a daemon's configuration (a VRRP instance, a vrrp_script, an nginx upstream).
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# A DNS host name: dot-separated labels of letters, digits and inner hyphens.
HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                  r"[A-Za-z0-9])?)*$")


class InputError(ValueError):
    """A field whose value cannot be used: `field=value: why`. A secret's value is never shown."""

    def __init__(self, field: str, value: object = NOVALUE, why: str = "", secret: bool = False):
        self.field, self.value, self.why, self.secret = field, value, why, secret
        super().__init__(self.message())

    def message(self) -> str:
        if self.value is NOVALUE:
            return f"{self.field}: {self.why}" if self.field else self.why
        return f"{self.field}={SECRET if self.secret else repr(self.value)}: {self.why}"


class InputErrors(ValueError):
    """Several bad fields, reported together."""

    def __init__(self, errors: Iterable[InputError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


# What a bad input raises: one error, or several at once.
BAD_INPUT = (InputError, InputErrors)


def errors_of(exc: InputError | InputErrors) -> list[InputError]:
    return exc.errors if isinstance(exc, InputErrors) else [exc]


def raise_error(error: InputError) -> None:
    """For collect(): a problem found already, raised in its turn."""
    raise error


def collect(checks: Iterable[Callable[[], Any]]) -> list:
    """Run every check; their results, or InputErrors with every problem any of them raised."""
    results, errors = [], []
    for check in checks:
        try:
            results.append(check())
        except BAD_INPUT as exc:
            errors += errors_of(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)
    return results


def plain(value: Any) -> Any:
    """`value` as plain dicts, lists and scalars. Ansible hands a filter containers whose templated items
    render when they are read; read here, in the filter's own call, they render in its context (a deep
    copy, such as the argument-spec validator makes, would render them outside it)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def sub(parent: str, name: str) -> str:
    """Field `name` inside `parent`: 'services[0]' + 'port' -> 'services[0].port', '' + 'port' -> 'port'."""
    if not parent:
        return name
    return parent + name if name.startswith("[") or not name else f"{parent}.{name}"


def given(value: object) -> bool:
    return value not in (None, "")


def integer(field: str, value: object, low: int, high: int) -> int:
    """A whole number from `low` to `high` (a bool is not one; '10' is)."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise InputError(field, value, f"an integer from {low} to {high} is required")
    try:
        number = int(value) if isinstance(value, (int, float)) else int(str(value).strip(), 10)
    except (TypeError, ValueError):
        raise InputError(field, value, f"an integer from {low} to {high} is required") from None
    if not low <= number <= high:
        raise InputError(field, value, f"must be from {low} to {high}")
    return number


def number(field: str, value: object, low: float, high: float, places: int | None = None) -> float:
    """A number from `low` to `high`, with at most `places` decimal places when given."""
    try:
        if isinstance(value, bool):
            raise ValueError
        result = float(value)
    except (TypeError, ValueError):
        raise InputError(field, value, f"a number from {low:g} to {high:g} is required") from None
    if not low <= result <= high:
        raise InputError(field, value, f"must be from {low:g} to {high:g}")
    if places is not None and round(result, places) != result:
        raise InputError(field, value, f"at most {places} decimal places")
    return result


def choice(field: str, value: object, choices: Iterable) -> Any:
    options = tuple(choices)
    if value not in options:
        raise InputError(field, value, "must be one of " + ", ".join(str(option) for option in options))
    return value


def ip_address(field: str, value: object, version: int | None = None, prefix: bool | None = False,
               multicast: bool = False) -> str:
    """An IP literal checked with `ipaddress` (never a regex), compressed. `prefix`: False refuses
    ADDRESS/PREFIX, True requires it, None accepts both; the result keeps what was given. `version`
    4 or 6 refuses the other family; `multicast` requires a multicast address."""
    text = value.strip() if isinstance(value, str) else ""
    kind = {4: "an IPv4 ", 6: "an IPv6 "}.get(version, "an IP ") + "address"
    want = kind + {True: "/prefix", None: " with or without /prefix"}.get(prefix, "")
    if not text:
        raise InputError(field, value, f"{want} is required")
    has_prefix = "/" in text
    if has_prefix and prefix is False:
        raise InputError(field, value, f"{kind} without a prefix is required")
    if not has_prefix and prefix is True:
        raise InputError(field, value, f"{want} is required (for example 192.0.2.50/24)")
    try:
        if has_prefix:
            interface = ipaddress.ip_interface(text)
            address, shown = interface.ip, f"{interface.ip.compressed}/{interface.network.prefixlen}"
            if interface.network.prefixlen != int(text.rsplit("/", 1)[1]):
                raise ValueError
        else:
            address = ipaddress.ip_address(text)
            shown = address.compressed
    except ValueError:
        raise InputError(field, value, f"not {want} (host names are not accepted)") from None
    if version is not None and address.version != version:
        raise InputError(field, value, f"{kind} is required, not IPv{address.version}")
    if multicast and not address.is_multicast:
        block = "224.0.0.0/4" if address.version == 4 else "ff00::/8"
        raise InputError(field, value, f"not a multicast address (those are in {block})")
    return shown


def ip_network(field: str, value: object, version: int | None = None) -> str:
    """A network ADDRESS/PREFIX (host bits allowed) -> its canonical form, 198.51.100.0/24."""
    try:
        network = ipaddress.ip_network(str(value).strip(), strict=False)
        if not isinstance(value, str) or not value.strip():
            raise ValueError
    except ValueError:
        raise InputError(field, value, "not a network (for example 198.51.100.0/24)") from None
    if version is not None and network.version != version:
        raise InputError(field, value, f"an IPv{version} network is required")
    return network.with_prefixlen


def identifier(field: str, value: object, _params: object = None) -> str:
    """A configuration object's name: 1-64 letters, digits, '_', '.' or '-' (usable as a field's check)."""
    if not isinstance(value, str) or not NAME.match(value):
        raise InputError(field, value, "use 1-64 letters, digits, '_', '.' or '-'")
    return value


def host_or_address(field: str, value: object, _params: object = None) -> str:
    """A server: an IP address (compressed) or a host name (usable as a field's check)."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        pass
    if not HOST.match(text) or text.replace(".", "").isdigit():
        raise InputError(field, value, "an IP address or a host name is required")
    return text


def interface_name(field: str, value: object) -> str:
    if not isinstance(value, str) or value in (".", "..") or not INTERFACE.match(value):
        raise InputError(field, value, "not an interface name (1-15 letters, digits, '_', '.', '@' or '-')")
    return value


def absolute_path(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.startswith("/") or "\n" in value:
        raise InputError(field, value, "an absolute path is required")
    return value


def addresses(field: str, values: object, version: int | None = None, prefix: bool | None = False,
              at_least: int = 0) -> list[str]:
    """A list of addresses, every bad one named; duplicates refused."""
    if values is None:
        values = []
    if not isinstance(values, list):
        raise InputError(field, values, "a list of addresses is required")
    if len(values) < at_least:
        raise InputError(field, values, f"at least {at_least} address{'es' if at_least > 1 else ''} required")
    checked = collect([lambda index=index, value=value: ip_address(f"{field}[{index}]", value, version, prefix)
                       for index, value in enumerate(values)])
    for index, address in enumerate(checked):
        if address in checked[:index]:
            raise InputError(f"{field}[{index}]", values[index], "listed twice")
    return checked


# --- a module's input, run alike by the module and by a role's preflight -----------------

RULES = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


@dataclass(frozen=True)
class ModuleInput:
    """What a module accepts: its argument spec and the rules between options (AnsibleModule's own
    validation), then `check`, which turns the validated parameters into what the module works with
    and raises InputError or InputErrors for a bad value."""

    argument_spec: dict
    check: Callable[[dict], Any]
    rules: dict = field(default_factory=dict)

    def module_options(self) -> dict:
        """Keyword arguments of AnsibleModule (argument_spec and the rules)."""
        return {"argument_spec": self.argument_spec, **self.rules}

    def validate(self, args: dict) -> tuple[dict, list[str]]:
        """The parameters as AnsibleModule would hand them to the module (types converted, defaults
        filled) and the messages of its validation, which the module would fail with."""
        validator = ArgumentSpecValidator(self.argument_spec, **{name: self.rules[name] for name in RULES
                                                                 if name in self.rules})
        result = validator.validate(dict(args or {}))
        secrets = [str(value) for value in result._no_log_values if str(value)]
        messages = []
        for message in result.errors.messages:
            for secret in secrets:
                message = message.replace(secret, "********")
            messages.append(message)
        return result.validated_parameters, messages

    def built(self, args: dict) -> tuple[Any, list[InputError | str]]:
        """What `check` makes of `args` after the argument validation, and every problem the module would find
        (its argument validation first, then its own checks; with problems the model is None)."""
        params, messages = self.validate(args)
        if messages:
            return None, messages
        try:
            return self.check(params), []
        except BAD_INPUT as exc:
            return None, errors_of(exc)

    def problems(self, args: dict) -> list[InputError | str]:
        """Every problem the module would find in `args`, without running it."""
        return self.built(args)[1]

    def checked(self, module) -> Any:
        """In a module: `check` of its parameters, or fail_json naming every bad field."""
        try:
            return self.check(module.params)
        except BAD_INPUT as exc:
            module.fail_json(msg=f"{exc}; nothing was changed")
            raise  # fail_json exits; this only tells the reader (and type checkers)


def problem_lines(problems: Iterable[InputError | str], where: str = "", names: dict | None = None,
                  parent: str = "") -> list[str]:
    """Problems as sentences for a preflight: `where` first ('dir1: '), each field's first part renamed
    by `names` ({'services': 'lvs_director_services'}) to the variable the user set, inside `parent`
    ('keepalived_ha_instances[0]'); a message of the argument validation is kept as it is."""
    names = names or {}
    lines = []
    for problem in problems:
        if isinstance(problem, InputError):
            head, dot, rest = problem.field.partition(".")
            base, bracket, index = head.partition("[")
            renamed = sub(parent, names.get(base, base) + bracket + index + dot + rest)
            lines.append(where + InputError(renamed, problem.value, problem.why, problem.secret).message())
        else:
            # ansible-core's own message, which names the option it is found in: the variable instead.
            text = FOUND_IN.sub(lambda match: match.group(1) + names.get(match.group(2), match.group(2)), str(problem))
            lines.append(where + (f"{parent}: " if parent else "") + text)
    return lines


FOUND_IN = re.compile(r"(found in '?)(\w+)")
