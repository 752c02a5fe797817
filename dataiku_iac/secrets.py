"""Sensitive values: recognised by their key or by their origin, masked for people, fingerprinted for state.

A value is sensitive when it sits under a key DSS treats as secret (`password`, `clientSecret`, `accountKey`...),
or when it came from `${env:NAME}` (a `Sensitive` string), whatever key it lands under. Plans and screens show
such values as `(sensitive)`; state and saved plans hold a keyed fingerprint (HMAC-SHA256 under the state's
own random key), enough to tell "changed" from "same" and never the value, nor a way to test guesses at it
without that key. Text that reaches an output stream goes through `redact`, which hides every value read from
the environment in this process (the last line of defence for error messages that quote a value).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "(sensitive)"


class Sensitive(str):
    """A string read from the environment (`${env:NAME}`): sensitive wherever it lands, whatever its key.

    It compares, hashes and serialises as the plain string (DSS receives the value); only `repr` hides it, so
    that a message built with `{value!r}` cannot show it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK)


# -- key names ---------------------------------------------------------------------------------------------------
# The one list of key names DSS keeps secret, read off dataikuapi (connection params and credentials, user
# secrets, messaging channels, cloud accounts, deployer infras) and the DSS docs: `password`, `bindPassword`,
# `keyPassword`, `passphrase`, `clientSecret`, `azureSecret`, `secretKey`, `awsSecretAccessKey`, `accessToken`,
# `refreshToken`, `sessionToken`, `authToken`, `personalAccessToken`, `licenseToken`, `sasToken`, `apiKey`,
# `adminAPIKey`, `privateKey`, `accountKey`, `gcpServiceAccountKey`, `credentials`; and the short forms people
# write in params and variables (`db_pass`, `passwd`, `pwd`, `api_key`, `private_key`).
# A key is secret when its letters hold one of these...
_MARKERS = ("password", "passwd", "passphrase", "secret", "apikey", "privatekey", "accountkey", "credential")
# ...or its last word is one of these (`accessToken`, `db_pass`: not `bypass`, `tokenEndpoint`, `totalTokens`)...
_LAST_WORDS = frozenset({"token", "pass", "pwd"})
# ...unless its last word only describes the secret (`passwordMode`, `privateKeyPath`, `remoteSecretRef`,
# `credentialsClientId`, `my_api_key_id`): a setting about the secret, not the secret.
_DESCRIPTIVE = frozenset({"url", "uri", "endpoint", "mode", "type", "name", "id", "expiry", "expiration", "enabled",
                          "path", "file", "ref", "regex", "version", "audience", "method", "exchange", "metadata",
                          "policy", "provider", "header", "length", "count", "env", "var"})
_URL = frozenset({"url", "uri"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=4096)  # asked of every key of every document walked: the same few hundred names
def is_secret_key(key: str) -> bool:
    words = [w.lower() for w in _WORD.findall(key)]
    if len(words) > 1 and words[-1] in _URL and "webhook" in words:
        return True  # a Slack or Teams webhook URL is its own credential: whoever has it may post
    if not words or words[-1] in _DESCRIPTIVE:
        return False
    letters = "".join(words)
    return words[-1] in _LAST_WORDS or any(m in letters for m in _MARKERS)


# What a kind reads in place of a write-only secret that DSS holds (a reporter's webhook URL): never its value. It
# reads as DSS's encrypted form does, so a plan compares the configuration with the fingerprint of what was last
# written (not with what DSS hands back), and `import` writes a `${env:NAME}` reference whose value it cannot know.
WRITE_ONLY = "e:AES:(write-only)"


# -- fingerprints ------------------------------------------------------------------------------------------------
FINGERPRINT = "hmac-sha256:"
_DIGITS = 32
LEGACY = "sha256:"  # unkeyed fingerprints of states written before keys: still checked, never written
_LEGACY_DIGITS = 16


def is_fingerprint(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    return (value.startswith(FINGERPRINT) and len(value) == len(FINGERPRINT) + _DIGITS) or \
        (value.startswith(LEGACY) and len(value) == len(LEGACY) + _LEGACY_DIGITS)


def _plain(value: Any) -> Any:
    """The value as JSON would carry it: tags and tuples gone (what legacy fingerprints were made from)."""
    return json.loads(json.dumps(value, default=str))


class Fingerprints:
    """Fingerprints under one key (the state's: see State.fingerprint_key). Without a key (a plan made before the
    environment has any state) a sensitive value is only masked: there is nothing to fingerprint it with that
    the apply could check it against."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key

    @property
    def keyed(self) -> bool:
        return self._key is not None

    def of(self, value: Any) -> str:
        if is_fingerprint(value) or value == MASK:
            return str(value)  # already sealed: sealing twice changes nothing
        if self._key is None:
            return MASK
        body = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()  # tags are plain str
        return FINGERPRINT + hmac.new(self._key, body, hashlib.sha256).hexdigest()[:_DIGITS]

    def matches(self, fingerprint: str, value: Any) -> bool:
        """Whether `fingerprint` was made from `value` (False when that cannot be told)."""
        if fingerprint.startswith(FINGERPRINT):
            return self._key is not None and hmac.compare_digest(self.of(value), fingerprint)
        if fingerprint.startswith(LEGACY):
            legacy = LEGACY + hashlib.sha256(repr(_plain(value)).encode()).hexdigest()[:_LEGACY_DIGITS]
            return hmac.compare_digest(legacy, fingerprint)
        return False

    def scrub(self, value: Any) -> Any:
        """A copy with every sensitive value replaced by its fingerprint (for state and saved plans)."""
        return _replace(value, self.of)


UNKEYED = Fingerprints(None)


# -- walking documents -------------------------------------------------------------------------------------------
def is_sensitive(key: str, value: Any) -> bool:
    """Whether one field's value is sensitive: by its key, by its origin, or because it is sealed already."""
    return (is_secret_key(key) and _has_value(value)) or (isinstance(value, Sensitive) and value != "") or \
        is_sealed(value)


def is_sealed(value: Any) -> bool:
    return is_fingerprint(value) or value == MASK


def _has_value(value: Any) -> bool:
    # A flag (`secret: true`) or an empty value hides nothing.
    return value not in (None, "") and not isinstance(value, bool)


def _replace(value: Any, by: Callable[[Any], Any], secret: bool = False) -> Any:
    if (secret and _has_value(value)) or (isinstance(value, Sensitive) and value != ""):
        return by(value)
    if isinstance(value, dict):
        # `{"name", "value", "secret": true}` entries (user secrets, JDBC properties) flag their value.
        flagged = value.get("secret") is True
        return {k: _replace(v, by, is_secret_key(str(k)) or (flagged and k == "value")) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace(v, by) for v in value]
    return value


def mask(value: Any) -> Any:
    """A copy where every sensitive value reads `(sensitive)` (for plans and screens)."""
    return _replace(value, lambda v: MASK)


def taint(value: Any, *likes: Any) -> Any:
    """`value` (a document read from DSS) with every string found where one of `likes` (the configuration's
    fields, the state's) holds a sensitive value marked `Sensitive` too: DSS does not say where our secrets are.
    Parts with nothing to mark are returned as they are, not copied."""
    return _taint(value, [like for like in likes if like is not None and _has_mark(like)])


def _is_mark(value: Any) -> bool:
    return isinstance(value, Sensitive) or (isinstance(value, str) and value[:1] in "hs(" and is_sealed(value))


def _has_mark(doc: Any) -> bool:
    """Whether a document holds any sensitive value (most hold none: then there is nothing to taint with)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif _is_mark(node):
            return True
    return False


def _taint(value: Any, likes: list[Any]) -> Any:
    if not likes:
        return value
    if any(_is_mark(like) for like in likes):
        return _seal_all(value)
    out: Any = None
    if isinstance(value, dict):
        maps = [like for like in likes if isinstance(like, dict)]
        for k, v in value.items():
            marked = _taint(v, [like[k] for like in maps if k in like])
            if marked is not v:
                out = out if out is not None else dict(value)
                out[k] = marked
    elif isinstance(value, list):
        seqs = [like for like in likes if isinstance(like, list)]
        for i, v in enumerate(value):
            marked = _taint(v, [like[i] for like in seqs if i < len(like)])
            if marked is not v:
                out = out if out is not None else list(value)
                out[i] = marked
    return value if out is None else out


def _seal_all(value: Any) -> Any:
    if isinstance(value, str):
        return Sensitive(value)
    if isinstance(value, dict):
        return {k: _seal_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_seal_all(v) for v in value]
    return value


def tag_values(value: Any, sensitive: frozenset[str]) -> Any:
    """`value` where every string equal to one of `sensitive` (values read from the environment) is `Sensitive`:
    validation and the resource kinds copy strings, so the origin is found again by value. Parts with nothing to
    tag are returned as they are, not copied."""
    if not sensitive:
        return value
    if isinstance(value, str):
        return Sensitive(value) if value in sensitive and not isinstance(value, Sensitive) else value
    out: Any = None
    if isinstance(value, dict):
        for k, v in value.items():
            tagged = tag_values(v, sensitive)
            if tagged is not v:
                out = out if out is not None else dict(value)
                out[k] = tagged
    elif isinstance(value, list):
        for i, v in enumerate(value):
            tagged = tag_values(v, sensitive)
            if tagged is not v:
                out = out if out is not None else list(value)
                out[i] = tagged
    return value if out is None else out


def sensitive_strings(value: Any) -> frozenset[str]:
    """Every non-empty `Sensitive` string in a document."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, Sensitive) and v:
            found.add(str(v))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)

    walk(value)
    return frozenset(found)


# -- text --------------------------------------------------------------------------------------------------------
# Shorter values are not hidden in free text: replacing every "dev" or "0.5" in a message would garble it and
# hide nothing. In fields, a sensitive value is masked whatever its length.
MIN_REDACTED = 4
_seen: set[str] = set()
_seen_lock = threading.Lock()


def remember(values: Iterable[str]) -> None:
    """Values read from the environment: `redact` hides them in any text from now on."""
    with _seen_lock:
        _seen.update(str(v) for v in values if len(v) >= MIN_REDACTED)


def forget_all() -> None:
    """A new command starts (the CLI): values remembered by an earlier one in this process do not apply."""
    with _seen_lock:
        _seen.clear()


def redact(text: str) -> str:
    """`text` with every value read from the environment replaced by `(sensitive)`, and the credentials of any
    URL in it hidden."""
    with _seen_lock:
        seen = sorted(_seen, key=len, reverse=True)  # a value containing another goes first
    for value in seen:
        if value in text:
            text = text.replace(value, MASK)
    return _URL_WITH_CREDENTIALS.sub(lambda m: redact_url(m.group(0)), text) if "@" in text else text


_URL_WITH_CREDENTIALS = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/@'\"]+@[^\s'\"]*")


def redact_url(url: str) -> str:
    """`url` as messages show it: its credentials (user:password@, secret query parameters) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL after all: whatever stands before an @ may be credentials
        return "***@" + url.rsplit("@", 1)[-1] if "@" in url else url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if "@" in parts.netloc:
        netloc = "***@" + netloc
    params = parse_qsl(parts.query, keep_blank_values=True)
    # A flag such as withSecrets=false holds no secret: it stays readable.
    query = urlencode([(k, "***" if is_secret_key(k) and v.lower() not in ("true", "false") else v)
                       for k, v in params], safe="*/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def url_credentials(url: str) -> list[str]:
    """The secret part of a URL's credentials (the password, or a token given as user name)."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return []
    if "@" not in netloc:
        return []
    userinfo = netloc.rpartition("@")[0]
    user, colon, password = userinfo.partition(":")
    return [password] if colon else [user]
