"""Errors of promotions: each a one-line message naming the project, the bundle and what DSS said."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DssIacError

if TYPE_CHECKING:
    from .promote import PromotionResult


class PromotionError(DssIacError):
    """A promotion cannot be planned or failed while running (exit 1).

    `result` is set when the promotion had started: what was deployed before the failure.
    """

    def __init__(self, message: str, result: PromotionResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class VerifyError(PromotionError):
    """`promote --verify`: the target's tests failed after the update (exit 7, as `dss-iac test`); `result` says what
    was rolled back."""

    exit_code = 7
