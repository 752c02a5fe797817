"""The exception tree. Every error a user can cause is a `DssIacError` with a one-line message."""

from __future__ import annotations

from dataclasses import dataclass

from ._text import printable


class DssIacError(Exception):
    """Root of dataiku-iac's errors; `exit_code` is what the CLI returns for it."""

    exit_code = 1


@dataclass(frozen=True)
class Position:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class ConfigError(DssIacError):
    """Invalid workspace or project configuration, located in its file when possible."""

    exit_code = 3

    def __init__(self, message: str, position: Position | None = None, *, file: str | None = None,
                 loc: tuple[str | int, ...] | None = None) -> None:
        self.message = message
        self.position = position
        self.file = file if file is not None else (position.file if position else None)
        # Where in its file's document the problem is (`("scenarios", "daily", "steps", 0)`), when known: import
        # uses it to tell which object a problem belongs to.
        self.loc = loc
        super().__init__(self.render())

    def render(self) -> str:
        if self.position is not None:
            return printable(f"{self.position}: {self.message}")
        if self.file:
            return printable(f"{self.file}: {self.message}")
        return printable(self.message)

    def _repr_html_(self) -> str:
        """Notebooks show the errors one per line, each with its `file:line:col`."""
        from .plan.render_html import error_html

        return error_html(self)


class ConfigErrors(ConfigError):
    """Several configuration errors found at once; the message lists each on its own line."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, first.position, file=first.file, loc=first.loc)

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


class StateError(DssIacError):
    """The state is unreadable, corrupt, from a newer version, or inconsistent."""

    exit_code = 1


class LockError(StateError):
    """Another run holds the state lock."""

    exit_code = 4


class PlanError(DssIacError):
    """The plan cannot be made or read."""


class StalePlanError(PlanError):
    """A saved plan no longer matches the state, the config or DSS: plan again."""

    exit_code = 5


class ApplyError(DssIacError):
    """Some operations of an apply failed (the state records what succeeded)."""


class DSSApiError(DssIacError):
    """DSS refused a call, could not be reached, or refused our credentials."""


class ApprovalError(DssIacError):
    """An apply needs an approval it does not have, or a confirmation was refused."""

    exit_code = 6


class SignOffError(ApprovalError):
    """A Govern sign-off the environment requires is not approved yet (pending or not requested), or was rejected.
    `gate` is the `govern.Gate` that says which, who must approve, and where."""

    exit_code = 8

    def __init__(self, message: str, gate: object = None) -> None:
        super().__init__(message)
        self.gate = gate
