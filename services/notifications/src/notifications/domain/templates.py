"""Message templates: Jinja2 in a sandbox, one variant per language, refused when they reach outside their variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conveyor_kit.bounded import join_within
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import SandboxedEnvironment

LANGUAGES = ("en", "ru")
PARTS = ("subject", "text", "html")

# What one part of one render may produce: far beyond any message, far below what hurts the service.
MAX_OUTPUT = 100_000
# Arithmetic that can take unbounded time or memory at compile or render time (`9 ** 9 ** 9`, `'x' * 10**9`).
_ARITHMETIC = (nodes.Pow, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod)

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


class TemplateRefused(ValueError):
    """A template does not parse, or uses a name or attribute it was not given."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def check(source: str, variables: set[str]) -> None:
    """Refuse a template that uses anything but its declared variables (no globals, no private attributes)."""
    try:
        tree = _TEXT.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateRefused(f"line {error.lineno}: {error.message}") from None
    # Globals (range, lipsum, cycler...) are not "undeclared" to Jinja; every name read must be given or set here.
    stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")} | {"loop"}
    read = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    unknown = (find_undeclared_variables(tree) | (read - stored)) - variables
    if unknown:
        raise TemplateRefused(f"uses names it was not given: {', '.join(sorted(unknown))}")
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateRefused(f"reaches for a private attribute: {name}")
    for _ in tree.find_all(nodes.Call):
        raise TemplateRefused("calls a function or method; templates may only use variables and filters")
    for _ in tree.find_all(_ARITHMETIC):
        raise TemplateRefused("multiplies, divides or raises to a power; templates show values, they do not compute")
    for loop in tree.find_all(nodes.For):
        if not any(True for _ in loop.iter.find_all(nodes.Name)) and not isinstance(loop.iter, nodes.Name):
            raise TemplateRefused("loops over a constant; a loop must run over a variable")
        if any(True for inner in (*loop.body, *loop.else_) for _ in inner.find_all(nodes.For)) or any(
            isinstance(inner, nodes.For) for inner in (*loop.body, *loop.else_)
        ):
            raise TemplateRefused("has a loop inside a loop")


def check_variants(variants: dict[str, dict[str, str | None]], variables: set[str]) -> None:
    """Every part of every language variant passes ``check``; ``subject`` and ``text`` are required."""
    if not variants:
        raise TemplateRefused("a template needs at least one language variant")
    for language, parts in variants.items():
        if language not in LANGUAGES:
            raise TemplateRefused(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
        for part in ("subject", "text"):
            if not parts.get(part):
                raise TemplateRefused(f"{language}: {part} is required")
        for part, source in parts.items():
            if part not in PARTS:
                raise TemplateRefused(f"{language}: unknown part {part!r}")
            if source is not None:
                try:
                    check(source, variables)
                except TemplateRefused as refused:
                    raise TemplateRefused(f"{language}.{part}: {refused}") from None


def pick_language(variants: dict[str, Any], wanted: str | None) -> str:
    """The wanted language when the template has it, else English, else its first variant."""
    if wanted in variants:
        return str(wanted)
    return "en" if "en" in variants else next(iter(variants))


def render(variants: dict[str, dict[str, str | None]], language: str | None, values: dict[str, Any]) -> Rendered:
    """Render the variant for ``language``; a missing variable raises ``TemplateRefused``."""
    parts = variants[pick_language(variants, language)]
    try:
        subject = join_within(_TEXT.from_string(parts["subject"] or "").generate(values), MAX_OUTPUT).strip()
        text = join_within(_TEXT.from_string(parts["text"] or "").generate(values), MAX_OUTPUT)
        html_source = parts.get("html")
        html = join_within(_HTML.from_string(html_source).generate(values), MAX_OUTPUT) if html_source else None
    except Exception as error:  # undefined variables, sandbox refusals at render time
        raise TemplateRefused(f"cannot render: {error}") from None
    return Rendered(subject=subject, text=text, html=html)
