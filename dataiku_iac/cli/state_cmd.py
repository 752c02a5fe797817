"""`dss-iac state list|show|rm|unlock`: read and repair the state without touching DSS."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from . import exit_codes
from .console import Console
from .workspace_cmds import load, lock_timeout_option

if TYPE_CHECKING:
    from ..state.crypto import AesGcmCodec
    from ..workspace import Workspace


def register(sub: Any) -> None:
    state = sub.add_parser("state", help="inspect and repair the state",
                           description="Inspect and repair the state (what dss-iac manages in each environment).",
                           epilog="examples:\n  dss-iac state list -e dev\n  dss-iac state show -e dev "
                                  "dataset.CHURN.customers_raw\n  dss-iac state rm -e dev recipe.CHURN.old_recipe",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    ssub = state.add_subparsers(dest="state_command", metavar="SUBCOMMAND", parser_class=sub._parser_class)
    for name, help_, fn in (("list", "list the managed resources", cmd_list),
                            ("show", "show one resource's recorded fields", cmd_show),
                            ("rm", "forget resources (they stay in DSS, unmanaged)", cmd_rm),
                            ("unlock", "release a lock left by a run that died", cmd_unlock),
                            ("history", "list the last commands that changed the state, with counts", cmd_history),
                            ("restore", "make a kept serial the current state again", cmd_restore),
                            ("pull", "print the state as JSON (to move it, or to keep a copy)", cmd_pull),
                            ("push", "store a state file as the environment's state", cmd_push),
                            ("encrypt", "encrypt existing plaintext state with the workspace's key", cmd_encrypt),
                            ("rekey", "re-encrypt the state from an old key to the workspace's key", cmd_rekey)):
        p = ssub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".",
                            epilog=f"example:\n  dss-iac state {name} -e dev" + {
                                "show": " project.CHURN", "rm": " recipe.CHURN.old_recipe",
                                "unlock": " 3f2a9c1b7e44", "restore": " 41", "pull": " > dev.state.json",
                                "push": " dev.state.json", "rekey": " --old-key-env OLD_STATE_KEY"}.get(name, ""),
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("-e", "--env", required=True, metavar="ENV", help="environment")
        if name in ("show", "rm"):
            p.add_argument("addresses", nargs="+" if name == "rm" else 1, metavar="ADDR")
        if name == "unlock":
            p.add_argument("lock_id", metavar="LOCK_ID", help="the id shown in the 'locked' error")
            p.add_argument("--force", action="store_true",
                           help="release it even though its holder is still alive and renewing it")
        if name == "restore":
            p.add_argument("serial", type=int, metavar="SERIAL", help="a serial listed by `state history`")
        if name == "push":
            p.add_argument("file", metavar="FILE", help="a state file written by `state pull`")
            p.add_argument("--force", action="store_true",
                           help="push even if the lineage differs or the serial is older than the stored one")
        if name == "rekey":
            p.add_argument("--old-key-env", required=True, metavar="NAME",
                           help="environment variable holding the key the state is encrypted with now")
        if name in ("rm", "restore", "push", "encrypt", "rekey"):
            lock_timeout_option(p)
        if name == "history":
            p.add_argument("--json", action="store_true", help="print as JSON")
        if name in ("list", "show"):
            p.add_argument("--json", action="store_true", help="print as JSON")
        p.set_defaults(func=fn)
    state.set_defaults(func=lambda args, console: (state.print_help(), exit_codes.USAGE)[1])


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        state = ws.state(args.env)
    if args.json:
        console.json({"environment": args.env, "serial": state.serial, "lineage": state.lineage,
                      "resources": [{"address": a, "kind": r.kind, "remote_id": r.remote_id}
                                    for a, r in sorted(state.resources.items())]})
        return exit_codes.OK
    for address in sorted(state.resources):
        console.out(address)
    if console.interactive:
        console.note(f"{len(state.resources)} resources, state serial {state.serial}"
                     + (f", last written by {state.updated_by} at {state.updated_at}" if state.updated_by else ""))
    return exit_codes.OK


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    from ..errors import StateError

    address = args.addresses[0]
    with load(args) as ws:
        entry = ws.state(args.env).resources.get(address)
    if entry is None:
        raise StateError(f"{address} is not in the state of environment {args.env} (see `dss-iac state list`)")
    body = {"address": address, **entry.to_dict()}
    if args.json:
        console.json(body)
    else:
        console.out(f"# {address}\nkind      = {entry.kind}\nremote_id = {entry.remote_id}")
        for key, value in sorted(entry.fields.items()):
            console.out(f"{key} = {json.dumps(value, ensure_ascii=False, sort_keys=True)}")
    return exit_codes.OK


def cmd_rm(args: argparse.Namespace, console: Console) -> int:
    from ..errors import StateError
    from ..state.lease import whoami

    with load(args) as ws, ws.locked_state(args.env, "state rm", args.lock_timeout) as (store, state, _):
        missing = [a for a in args.addresses if a not in state.resources]
        if missing:
            raise StateError(f"not in the state of {args.env}: {', '.join(missing)}")
        for a in args.addresses:
            del state.resources[a]
        state.stamp(whoami())
        store.commit(state, "state rm")
    console.out(f"Forgot {len(args.addresses)} resource(s); they remain in DSS, no longer managed.")
    return exit_codes.OK


def cmd_unlock(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        released = ws.state_store(args.env).leases.unlock(args.lock_id, force=args.force)
    console.out(f"Released the state lock {args.lock_id} of {args.env}." if released else
                f"The state of {args.env} was not locked.")
    return exit_codes.OK


def cmd_history(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        entries = ws.state_store(args.env).history()
    if args.json:
        console.json([e.to_dict() for e in entries])
        return exit_codes.OK
    if not entries:
        console.out(f"No state history for {args.env} yet.")
        return exit_codes.OK
    console.out(f"{'serial':>6}  {'when':<25}  {'who':<24}  {'command':<16}  {'changes':<14}  {'resources':>9}  commit")
    for e in reversed(entries):
        changes = f"+{e.added} ~{e.changed} -{e.destroyed}" if e.command else "-"
        console.out(f"{e.serial:>6}  {e.when:<25}  {e.who:<24}  {e.command or '-':<16}  {changes:<14}  "
                    f"{e.resources:>9}  {(e.commit or '-')[:12]}")
    return exit_codes.OK


def cmd_restore(args: argparse.Namespace, console: Console) -> int:
    from ..state.lease import whoami

    # The current state may be the damaged file this restore is for: it is not read, only replaced.
    with load(args) as ws, ws.locked_state(args.env, "state restore", args.lock_timeout, read=False) as (store, _, _hb):
        old = store.backup(args.serial)
        current = store.latest_serial()
        old.serial = current
        old.stamp(whoami())
        store.replace(old, f"state restore {args.serial}")
    console.out(f"Restored serial {args.serial} of {args.env} as serial {current + 1}. "
                f"Run `dss-iac plan -e {args.env}` to see how DSS differs from it.")
    return exit_codes.OK


def cmd_pull(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        state = ws.state(args.env)
    console.out(state.to_json().decode())
    return exit_codes.OK


def cmd_push(args: argparse.Namespace, console: Console) -> int:
    from pathlib import Path

    from ..errors import StateError
    from ..state.lease import whoami
    from ..state.model import State

    path = Path(args.directory, args.file)
    try:
        pushed = State.from_bytes(path.read_bytes(), str(path))
    except OSError as e:
        raise StateError(f"cannot read {args.file}: {e.strerror}") from None
    if pushed.environment != args.env:
        raise StateError(f"{args.file} holds the state of environment '{pushed.environment}', not '{args.env}'")
    # With --force the stored state is replaced unread: it may be damaged, or of another history.
    with load(args) as ws, ws.locked_state(args.env, "state push", args.lock_timeout,
                                           read=not args.force) as (store, state, _):
        if state.serial and pushed.lineage != state.lineage:
            raise StateError(f"{args.file} is of lineage {pushed.lineage}, the stored state of {args.env} of "
                             f"{state.lineage}: not the same history; --force replaces it anyway")
        if pushed.serial < state.serial:
            raise StateError(f"{args.file} is serial {pushed.serial}, older than the stored serial "
                             f"{state.serial}; --force replaces it anyway")
        pushed.serial = max(pushed.serial, state.serial, store.latest_serial())
        pushed.stamp(whoami())
        store.replace(pushed, "state push")
    console.out(f"Pushed {args.file} as serial {pushed.serial} of {args.env} to {store.blobs.location}.")
    return exit_codes.OK


def _current_codec(ws: Workspace, env: str) -> AesGcmCodec:
    from ..errors import ConfigError
    from ..state.crypto import codec_from_env

    var = ws.config.spec.state.encryption_key_env
    if not var:
        raise ConfigError(f"set state.encryption_key_env in dss-iac.yaml to the variable holding the key of {env}")
    return codec_from_env(var)


def cmd_encrypt(args: argparse.Namespace, console: Console) -> int:
    from ..state.crypto import encrypt_existing

    with load(args) as ws:
        codec = _current_codec(ws, args.env)
        with ws.locked_state(args.env, "state encrypt", args.lock_timeout, read=False) as (store, _, _hb):
            count = encrypt_existing(store, codec)
            forgotten = _drop_history(store, f"dss-iac state: encrypt {args.env}, earlier versions dropped")
    console.out(f"Encrypted {count} state file(s) of {args.env}.{forgotten}")
    return exit_codes.OK


def cmd_rekey(args: argparse.Namespace, console: Console) -> int:
    from ..state.crypto import codec_from_env, rotate

    with load(args) as ws:
        new = _current_codec(ws, args.env)
        old = codec_from_env(args.old_key_env)
        with ws.locked_state(args.env, "state rekey", args.lock_timeout, read=False) as (store, _, _hb):
            count = rotate(store, old, new)
            forgotten = _drop_history(store, f"dss-iac state: rekey {args.env}, earlier versions dropped")
    console.out(f"Re-encrypted {count} state file(s) of {args.env} with the new key.{forgotten}")
    return exit_codes.OK


def _drop_history(store: Any, message: str) -> str:
    """On a backend that keeps every version (Git), the versions from before are dropped too: plaintext state, or
    ciphertext under the old key, must not stay readable in the branch's history. Returns what to tell the user."""
    drop = getattr(store.blobs, "drop_history", None)
    if drop is None:
        return ""
    dropped, packed = drop(message)
    if not dropped:
        return ""
    text = (f" The state branch was rewritten as one commit: its {dropped} earlier commit(s) and what only they held "
            "are gone from this repository.")
    if packed:
        text += f" {packed} of those objects are in pack files: run `git gc --prune=now` to remove them."
    return text + " A copy pushed elsewhere keeps them: push the branch with --force and delete the old copies."
