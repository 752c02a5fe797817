"""Which values are sensitive (by key name, by origin), keyed fingerprints, masking, and redaction of text."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dataiku_iac.plan.diff import diff_fields
from dataiku_iac.secrets import (
    MASK,
    Fingerprints,
    Sensitive,
    forget_all,
    is_secret_key,
    mask,
    redact,
    redact_url,
    remember,
    taint,
)

# Key names DSS keeps secret (dataikuapi: connection params and credentials, user secrets, messaging channels,
# cloud accounts, deployer infras) and the short forms people use in params and variables.
DSS_SECRET_KEYS = ["password", "bindPassword", "keyPassword", "passphrase", "clientSecret", "azureSecret", "secretKey",
                   "awsSecretAccessKey", "accessToken", "refreshToken", "sessionToken", "authToken",
                   "personalAccessToken", "licenseToken", "webhookToken", "sasToken", "apiKey", "adminAPIKey",
                   "privateKey", "sshPrivateKey", "accountKey", "gcpServiceAccountKey", "credentials",
                   "credentialsClientSecret", "DATABRICKS_TOKEN", "DSS_MLFLOW_APIKEY", "db_pass", "dbPass", "passwd",
                   "pwd", "api_key", "private_key", "db_password", "secret", "token"]
# Settings about a secret, or names that only look like one.
NOT_SECRET_KEYS = ["passwordMode", "privateKeyPath", "tokenEndpoint", "tokenEndpointAuthMethod", "wifTokenAudience",
                   "performWIFTokenExchange", "totalTokens", "maxOutputTokens", "remoteSecretRef",
                   "remoteSecretVersion", "allowedRemoteSecretRefRegex", "secretMetadata", "credentialsClientId",
                   "credentialsTenantId", "credentialMethod", "my_api_key_id", "accessKey", "bypass", "compass",
                   "passThrough", "table", "schema", "warehouse_dsn", "path", "connection", "key"]


@pytest.mark.parametrize("key", DSS_SECRET_KEYS)
def test_key_names_dss_keeps_secret_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", NOT_SECRET_KEYS)
def test_settings_about_secrets_are_not_secrets(key: str) -> None:
    assert not is_secret_key(key)


WORDS = st.sampled_from(["db", "remote", "my", "conn", "azure", "user", "main", "backup", "x"])
SECRET_WORD = st.sampled_from(["password", "secret", "token", "passphrase", "apiKey", "accountKey", "privateKey",
                               "pass", "pwd", "credentials"])


def _styled(words: list[str], style: str) -> str:
    if style == "snake":
        return "_".join(w.lower() for w in words)
    if style == "kebab":
        return "-".join(w.lower() for w in words)
    return words[0][0].lower() + words[0][1:] + "".join(w[0].upper() + w[1:] for w in words[1:])


@given(st.lists(WORDS, max_size=3), SECRET_WORD, st.sampled_from(["snake", "camel", "kebab"]))
def test_a_secret_word_last_in_any_spelling_is_a_secret_key(prefix: list[str], word: str, style: str) -> None:
    assert is_secret_key(_styled([*prefix, word], style))


@given(st.lists(WORDS, max_size=2), SECRET_WORD, st.sampled_from(["Url", "Endpoint", "Mode", "Type", "Id", "Path",
                                                                  "Ref", "Version", "Name"]),
       st.sampled_from(["snake", "camel", "kebab"]))
def test_a_secret_word_described_by_its_last_word_is_not(prefix: list[str], word: str, suffix: str,
                                                         style: str) -> None:
    assert not is_secret_key(_styled([*prefix, word, suffix], style))


# -- keyed fingerprints ---------------------------------------------------------------------------------------------
KEYS = st.binary(min_size=32, max_size=32)
VALUES = st.text(min_size=1, max_size=40)


@given(KEYS, VALUES)
def test_a_fingerprint_checks_its_value_and_shows_nothing_of_it(key: bytes, value: str) -> None:
    fps = Fingerprints(key)
    fp = fps.of(value)
    assert fps.matches(fp, value) and fps.matches(fp, Sensitive(value))
    assert not fps.matches(fp, value + "x")
    assert fp.startswith("hmac-sha256:") and (len(value) < 8 or value not in fp.removeprefix("hmac-sha256:"))


@given(KEYS, KEYS, VALUES)
def test_without_the_key_a_fingerprint_cannot_be_checked_against_a_guess(key: bytes, other: bytes, value: str) -> None:
    """The point of a key: a dictionary of likely passwords hashed without it finds nothing."""
    fp = Fingerprints(key).of(value)
    guesses = {hashlib.sha256(value.encode()).hexdigest(), hashlib.sha256(repr(value).encode()).hexdigest(),
               hashlib.sha256(json.dumps(value).encode()).hexdigest()}
    assert not any(g[:32] in fp for g in guesses)
    if other != key:
        assert not Fingerprints(other).matches(fp, value)


def test_legacy_unkeyed_fingerprints_are_still_checked() -> None:
    legacy = "sha256:" + hashlib.sha256(repr("hunter2").encode()).hexdigest()[:16]
    fps = Fingerprints(b"k" * 32)
    assert fps.matches(legacy, "hunter2") and not fps.matches(legacy, "hunter3")


# -- documents ------------------------------------------------------------------------------------------------------
PLAIN_KEYS = st.sampled_from(["dsn", "url", "table", "name", "schema", "host", "a", "b"])
LEAVES = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none())


def documents(canary: str) -> st.SearchStrategy[Any]:
    """JSON-like documents where some leaves are the canary, read from the environment, under plain keys."""
    leaf = st.one_of(LEAVES, st.just(Sensitive(canary)))
    return st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(PLAIN_KEYS, inner, max_size=3)), max_leaves=12)


CANARY = "CANARY-9f31c7e2"


@given(documents(CANARY), KEYS)
def test_values_from_the_environment_are_sealed_under_any_key(doc: Any, key: bytes) -> None:
    for sealed in (mask(doc), Fingerprints(key).scrub(doc), Fingerprints(None).scrub(doc)):
        assert CANARY not in json.dumps(sealed)


@given(documents(CANARY))
def test_what_dss_holds_where_the_config_has_a_sensitive_value_is_sensitive_too(doc: Any) -> None:
    """DSS hands back plain strings: taint finds ours by where they sit in the configuration."""
    plain = json.loads(json.dumps(doc))
    assert CANARY not in json.dumps(mask(taint(plain, doc)))
    assert CANARY not in json.dumps(mask(taint(plain, Fingerprints(b"k" * 32).scrub(doc))))


def test_flagged_secret_entries_and_bool_flags() -> None:
    doc = {"secrets": [{"name": "tok", "value": "abc", "secret": True}], "props": [{"name": "n", "value": "v",
                                                                                    "secret": False}]}
    assert mask({"entries": doc["secrets"]}) == {"entries": [{"name": "tok", "value": MASK, "secret": True}]}
    assert mask({"props": doc["props"]}) == {"props": doc["props"]}


# -- diffs of secrets -----------------------------------------------------------------------------------------------
FPS = Fingerprints(b"s" * 32)


def test_a_secret_dss_will_not_show_is_compared_through_what_was_written() -> None:
    prior = FPS.scrub({"params": {"password": "hunter2"}})
    for shown in ("", "e:AES:Zm9vYmFy"):
        same = diff_fields({"params": {"password": "hunter2"}}, {"params": {"password": shown}},
                           previously_managed=prior, fingerprints=FPS)
        changed = diff_fields({"params": {"password": "hunter3"}}, {"params": {"password": shown}},
                              previously_managed=prior, fingerprints=FPS)
        assert same == []
        assert [(c.path, c.before, c.after, c.sensitive) for c in changed] == [("params.password", MASK, MASK, True)]
        # Nothing written yet: the secret must be written.
        assert diff_fields({"params": {"password": "hunter2"}}, {"params": {"password": shown}}, fingerprints=FPS)


def test_drift_of_a_secret_compares_its_fingerprint_with_what_dss_holds() -> None:
    prior = FPS.scrub({"params": {"db_password": "hunter2"}, "variables": {"dsn": Sensitive("pg://x")}})
    assert diff_fields(prior, {"params": {"db_password": "hunter2"}, "variables": {"dsn": "pg://x"}},
                       previously_managed=prior, fingerprints=FPS) == []
    drift = diff_fields(prior, taint({"params": {"db_password": "edited"}, "variables": {"dsn": "pg://edited"}},
                                     prior), previously_managed=prior, fingerprints=FPS)
    assert [(c.path, c.before, c.after, c.sensitive) for c in drift] == [
        ("params.db_password", MASK, MASK, True), ("variables.dsn", MASK, MASK, True)]
    # Blanked by DSS: nothing can be told, so nothing is claimed.
    assert diff_fields(prior, {"params": {"db_password": ""}, "variables": {"dsn": "pg://x"}},
                       previously_managed=prior, fingerprints=FPS) == []


# -- text -----------------------------------------------------------------------------------------------------------
@given(st.sampled_from(["http", "https"]), st.text("abcdefgh", min_size=1, max_size=6),
       st.text("ABCDEFGH123!$", min_size=4, max_size=12), st.sampled_from(["dss.example.com", "10.0.0.1:11200"]))
def test_credentials_in_urls_never_reach_a_message(scheme: str, user: str, password: str, host: str) -> None:
    url = f"{scheme}://{user}:{password}@{host}/dip"
    assert redact_url(url) == f"{scheme}://***@{host}/dip"
    assert password not in redact(f"cannot reach DSS at {url} (connection refused)")
    assert password not in redact_url(f"{scheme}://{password}@{host}")


def test_remembered_values_are_redacted_in_text_until_forgotten() -> None:
    forget_all()
    remember(["CANARY-1234", "ab"])
    assert redact("DSS said: connection 'CANARY-1234' not found; ab") == f"DSS said: connection '{MASK}' not found; ab"
    forget_all()
    assert redact("CANARY-1234") == "CANARY-1234"
