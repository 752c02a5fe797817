"""DSS-style JSON errors raised by simulator handlers."""

from __future__ import annotations

from typing import Any

_PREFIX = "com.dataiku.dip."


class SimError(Exception):
    """An error answered as DSS does: a status code and `{errorType, message, detailedMessage}`."""

    def __init__(self, status: int, error_type: str, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.error_type = error_type if error_type.startswith(("com.", "java.")) else _PREFIX + error_type
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "errorType": self.error_type,
            "message": self.message,
            "detailedMessage": self.message,
            "code": self.status,
        }


def bad_request(message: str) -> SimError:
    return SimError(400, "exceptions.BadRequestException", message)


def unauthorized(message: str = "Not authenticated: missing or invalid API key") -> SimError:
    return SimError(401, "exceptions.UnauthorizedException", message)


def forbidden(message: str) -> SimError:
    return SimError(403, "exceptions.UnauthorizedException", message)


def conflict(message: str) -> SimError:
    return SimError(409, "exceptions.CodedException", message)


def not_found(message: str, *, realistic: bool) -> SimError:
    """A missing object. Real DSS answers many of these with a 500, not a 404 (DSS_API.md §1)."""
    if realistic:
        return SimError(500, "java.lang.IllegalArgumentException", message)
    return SimError(404, "exceptions.UnknownObjectException", message)
