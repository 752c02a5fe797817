"""State blobs in an S3 bucket (or an S3-compatible service), with S3's own conditional writes.

The version token of a blob is its ETag. Compare-and-swap is done by S3 itself, in one request:
PutObject with `If-None-Match: *` (the key must not exist) or `If-Match: <etag>` (the key must still hold
what the writer read), and DeleteObject with `If-Match: <etag>`. There is no read-then-write window on
our side, so two writers can never silently overwrite each other. (AWS S3 honours these headers; an
S3-compatible service must too: one that ignored them would turn every write into a blind overwrite.)

boto3 is imported when a store is made, never when dataiku_iac is imported: it is an optional dependency.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..errors import StateError
from .blobs import Absent, BlobConflict, Expect

# Precondition failures: 412 (the ETag or existence differs), 409 ConditionalRequestConflict (another
# conditional write on the key is in flight; S3 asks to re-read), 404 NoSuchKey (If-Match on a deleted key).
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"}
_ACCESS_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
                 "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem", "403"}
_INSTALL_HINT = "the s3 state backend needs boto3: pip install 'dataiku-iac[s3]'"


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _retried(error: Any) -> bool:
    """botocore sent the request more than once: an earlier attempt may have been applied before its answer got lost."""
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) > 0


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


class S3BlobStore:
    """Blobs under `s3://bucket/prefix/`; keys such as `dev/state.json` become `prefix/dev/state.json`."""

    def __init__(self, bucket: str, prefix: str = "dss-iac", region: str | None = None,
                 endpoint_url: str | None = None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise StateError(_INSTALL_HINT) from None
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._root = f"{self.prefix}/" if self.prefix else ""
        self.location = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        config = Config(
            # Fail in seconds, not minutes, when the endpoint is unreachable; retry transient 5xx a little.
            connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3},
            user_agent_extra="dataiku-iac",
            # S3-compatible services (MinIO, Ceph, moto) are usually reached by host name or IP, where
            # bucket-in-host-name addressing cannot resolve; path-style requests work on all the common ones.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        try:
            # A session of our own: boto3's default session is not thread-safe, the client is.
            self._client = boto3.session.Session(region_name=region).client("s3", endpoint_url=endpoint_url,
                                                                            config=config)
        except ValueError as e:  # botocore's "Invalid endpoint: ..."
            raise StateError(f"state.endpoint_url {endpoint_url!r} of the s3 state backend is not usable "
                             f"({_one_line(e)}): give a URL such as https://s3.example.com") from None
        self.endpoint = str(self._client.meta.endpoint_url)

    # -- keys and errors ---------------------------------------------------------------------------
    def _key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid state key {key!r}")
        return self._root + key

    def _where(self, key: str) -> str:
        return f"{self.location}/{key}"

    @contextlib.contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """Turn boto3's failures into one-line StateErrors that say what to do."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            CredentialRetrievalError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
            ProfileNotFound,
            SSOError,
            TokenRetrievalError,
        )
        from botocore.exceptions import ConnectionError as EndpointUnreachable

        try:
            yield
        except ClientError as e:
            code = _code(e)
            message = _one_line(e.response.get("Error", {}).get("Message", "")) or code
            if code == "NoSuchBucket":
                raise StateError(f"the S3 bucket '{self.bucket}' of the state does not exist at {self.endpoint}: "
                                 "create it, or fix state.bucket in dss-iac.yaml") from None
            if code in _ACCESS_CODES:
                raise StateError(f"S3 refused access to {self._where(key)} ({code}: {message}): check the AWS "
                                 f"credentials and that they may get, put, delete and list objects in bucket "
                                 f"'{self.bucket}'") from None
            raise StateError(f"S3 failed on {self._where(key)} ({code}: {message}) at {self.endpoint}") from None
        except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError,
                SSOError, ProfileNotFound) as e:
            raise StateError(f"no usable AWS credentials to reach S3 bucket '{self.bucket}' ({_one_line(e)}): set "
                             "AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run "
                             "`aws sso login`") from None
        except (EndpointUnreachable, HTTPClientError) as e:  # refused, DNS, TLS, proxy, timeouts
            raise StateError(f"cannot reach the S3 endpoint {self.endpoint} for bucket '{self.bucket}' "
                             f"({_one_line(e)}): check state.endpoint_url and state.region in dss-iac.yaml, "
                             "and the network") from None
        except BotoCoreError as e:
            raise StateError(f"S3 failed on {self._where(key)} at {self.endpoint}: {_one_line(e)}") from None

    def _conflict(self, key: str) -> BlobConflict:
        return BlobConflict(f"{self._where(key)} changed since it was read")

    # -- the BlobStore protocol ----------------------------------------------------------------------
    def get(self, key: str) -> tuple[bytes, str] | None:
        from botocore.exceptions import ClientError

        with self._errors(key):
            try:
                obj = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as e:
                if _code(e) == "NoSuchKey":
                    return None
                raise
            return obj["Body"].read(), str(obj["ETag"])

    def put(self, key: str, data: bytes, *, expect: Expect = None) -> str:
        from botocore.exceptions import ClientError

        conditions: dict[str, str] = {}
        if isinstance(expect, Absent):
            conditions["IfNoneMatch"] = "*"
        elif expect is not None:
            conditions["IfMatch"] = expect
        with self._errors(key):
            try:
                answer = self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **conditions)
            except ClientError as e:
                if not conditions or _code(e) not in _CONFLICT_CODES:
                    raise
                if _retried(e):
                    # The first attempt may have been applied and its answer lost (timeout, 5xx): then the
                    # retry finds our own write. Reporting a conflict would be false, so look.
                    got = self.get(key)
                    if got is not None and got[0] == data:
                        return got[1]
                raise self._conflict(key) from None
            return str(answer["ETag"])

    def delete(self, key: str, *, expect: Expect = None) -> None:
        from botocore.exceptions import ClientError

        if isinstance(expect, Absent):
            # "Delete if absent" deletes nothing; it only asserts, and one read answers that atomically.
            if self.get(key) is not None:
                raise self._conflict(key)
            return
        conditions = {} if expect is None else {"IfMatch": expect}
        with self._errors(key):
            try:
                self._client.delete_object(Bucket=self.bucket, Key=self._key(key), **conditions)
            except ClientError as e:
                if not conditions or _code(e) not in _CONFLICT_CODES:
                    raise
                if _code(e) == "NoSuchKey" and _retried(e):
                    return  # an earlier attempt deleted it and its answer was lost: the key is gone, as asked
                raise self._conflict(key) from None

    def list(self, prefix: str) -> list[str]:
        # Folder semantics, like LocalBlobStore: `dev/backups` lists `dev/backups/...`, never `dev/backups2/...`.
        wanted = self._key(prefix.strip("/")) + "/" if prefix.strip("/") else self._root
        keys: list[str] = []
        with self._errors(prefix):
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=wanted):
                keys.extend(str(o["Key"])[len(self._root):] for o in page.get("Contents", []))
        return sorted(keys)
