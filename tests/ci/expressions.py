"""The two expression languages of the pipelines, as far as a template may use them, evaluated as the platforms do:

- GitHub Actions `${{ ... }}` and `if:`: literals, context properties (`github.event.pull_request.number`),
  `!`, `==`, `!=` (strings compared ignoring case), `&&`, `||` (returning an operand), parentheses, and the
  status functions `success()`, `failure()`, `always()`, `cancelled()`.
- GitLab CI `rules: if:`: `$VAR` (null when unset), quoted strings, `==`, `!=`, `&&`, `||`, parentheses.

Anything else raises: a template that uses more must teach this module first, so nothing passes unevaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_GITHUB_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
                           r"|(?P<word>[A-Za-z_][A-Za-z0-9_.\-]*))")
_GITLAB_TOKEN = re.compile(r"\s*(?:(?P<str>\"[^\"]*\"|'[^']*')|(?P<var>\$[A-Za-z_][A-Za-z0-9_]*)"
                           r"|(?P<op>==|!=|&&|\|\||\(|\))|(?P<null>null\b))")
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


class Unsupported(ValueError):
    pass


def _tokens(pattern: re.Pattern[str], text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = pattern.match(text, pos)
        if not m or m.end() == pos:
            raise Unsupported(f"cannot read {text[pos:]!r} in {text!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """Precedence climbing over `||`, `&&`, `==`/`!=`, unary `!`, and atoms read by `atom`."""

    def __init__(self, tokens: list[tuple[str, str]], atom: Callable[[_Parser], Any],
                 equal: Callable[[Any, Any], bool]) -> None:
        self.tokens, self.pos, self.atom, self.equal = tokens, 0, atom, equal

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise Unsupported(f"expected {value or 'more'} at token {self.pos}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.either()
        if self.peek() is not None:
            raise Unsupported(f"unexpected {self.peek()}")
        return value

    def either(self) -> Any:
        value = self.both()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.both()
            value = value if truthy(value) else right
        return value

    def both(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.unary()
            value = self.equal(value, right) == (op == "==")
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        if self.peek() == ("op", "("):
            self.take()
            value = self.either()
            self.take(")")
            return value
        return self.atom(self)


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def github(expression: str, contexts: Mapping[str, Any], status: str = "success") -> Any:
    """Evaluate a GitHub expression (without its `${{ }}`); `status` is the job's so far: success or failure."""
    def atom(p: _Parser) -> Any:
        kind, text = p.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind != "word":
            raise Unsupported(f"unexpected {text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if p.peek() == ("op", "("):
            p.take()
            p.take(")")
            if text not in STATUS_FUNCTIONS:
                raise Unsupported(f"function {text}() is not supported here")
            return {"success": status == "success", "failure": status == "failure", "always": True,
                    "cancelled": False}[text]
        root, *rest = text.split(".")
        if root not in contexts:
            raise Unsupported(f"unknown context {root!r} in {text!r}")
        value = contexts[root]
        for part in rest:  # a missing property is null, as on GitHub
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def equal(a: Any, b: Any) -> bool:
        if isinstance(a, str) and isinstance(b, str):
            return a.lower() == b.lower()
        return bool(a == b)

    return _Parser(_tokens(_GITHUB_TOKEN, expression), atom, equal).parse()


def github_condition(condition: Any, contexts: Mapping[str, Any], status: str = "success") -> bool:
    """A job's or step's `if:`: with or without `${{ }}`; without a status function, `success() &&` is implied."""
    if condition is None:
        return status == "success"
    if isinstance(condition, bool):
        return condition and status == "success"
    text = str(condition).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not any(re.search(rf"\b{f}\s*\(", text) for f in STATUS_FUNCTIONS):
        text = f"success() && ({text})"
    return truthy(github(text, contexts, status))


def github_substitute(text: str, contexts: Mapping[str, Any]) -> str:
    """Every `${{ ... }}` of a string replaced by its value, as GitHub renders it."""
    def value(m: re.Match[str]) -> str:
        v = github(m.group(1), contexts)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return "" if v is None else str(v)

    return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))


def gitlab(expression: str, variables: Mapping[str, str]) -> bool:
    """Evaluate a GitLab `rules: if:` expression."""
    def atom(p: _Parser) -> Any:
        kind, text = p.take()
        if kind == "str":
            return text[1:-1]
        if kind == "var":
            return variables.get(text[1:])
        if kind == "null":
            return None
        raise Unsupported(f"unexpected {text!r}")

    return truthy(_Parser(_tokens(_GITLAB_TOKEN, expression), atom, lambda a, b: a == b).parse())
