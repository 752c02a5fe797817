"""Opening the configured state backend of a workspace."""

from __future__ import annotations

from pathlib import Path

from ..config.models import StateSettings
from .blobs import BlobStore, LocalBlobStore
from .store import Codec, StateStore


def open_blobs(settings: StateSettings, root: Path) -> BlobStore:
    if settings.backend == "s3":
        from .s3 import S3BlobStore

        return S3BlobStore(bucket=str(settings.bucket), prefix=settings.prefix, region=settings.region,
                           endpoint_url=settings.endpoint_url)
    if settings.backend == "git":
        from .git_store import GitBlobStore

        return GitBlobStore((root / settings.repo).resolve(), settings.branch)
    return LocalBlobStore(root / settings.path)


def open_codec(settings: StateSettings) -> Codec | None:
    if settings.encryption_key_env is None:
        from .crypto import refuse_encrypted

        return refuse_encrypted()
    from .crypto import codec_from_env

    return codec_from_env(settings.encryption_key_env)


def open_store(settings: StateSettings, root: Path, env: str, blobs: BlobStore | None = None) -> StateStore:
    return StateStore(blobs or open_blobs(settings, root), env, codec=open_codec(settings),
                      keep=settings.keep_backups, lock_ttl=settings.lock_ttl_seconds)
