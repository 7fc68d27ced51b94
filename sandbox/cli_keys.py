"""``genstore-sandbox keys generate``: a P-256 key pair for a payment app, as registration
takes the public half (base64 SPKI DER) and as the app decrypts card data with the private
half (PKCS#8 PEM, docs/encryption.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from sandbox.core.crypto import KeyPair, generate_key_pair

FILES = {
    "private": "app-private.pem",
    "public": "app-public.pem",
    "public_b64": "app-public.b64",
}


def add_command(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="make a key pair for a payment app")
    actions = keys.add_subparsers(title="keys commands", metavar="COMMAND")
    generate = actions.add_parser(
        "generate",
        help="a P-256 pair: PEM files, and the base64 SPKI DER that app registration takes",
        description="Make a P-256 key pair for a payment app. With --out, write "
        f"{FILES['private']} (PKCS#8, only you may read it), {FILES['public']} and "
        f"{FILES['public_b64']} (what POST /_sandbox/apps takes as publicKey, or "
        "publicKey: '@app-public.b64' in a verify --app-config file); without, print both.",
    )
    generate.add_argument("--out", type=Path, metavar="DIR", help="write the files here")
    generate.add_argument("--force", action="store_true", help="replace key files already in DIR")
    generate.add_argument("--json", action="store_true", help="print JSON for scripts")
    generate.set_defaults(handler=cmd_generate)
    keys.set_defaults(handler=lambda args: keys.print_help() or 2)


def cmd_generate(args: argparse.Namespace) -> int:
    pair = generate_key_pair()
    written: dict[str, str] = {}
    if args.out is not None:
        try:
            written = write(pair, args.out, args.force)
        except (FileExistsError, OSError) as exc:
            print(f"genstore-sandbox: {exc}", file=sys.stderr)
            return 1
    if args.json:
        answer = {"publicKey": pair.public_b64, "files": written}
        if not written:
            answer["privateKeyPem"] = pair.private_pem
        print(json.dumps(answer, indent=2))
        return 0
    print(f"publicKey (base64 SPKI DER, for app registration):\n{pair.public_b64}")
    if written:
        for name in written.values():
            print(f"wrote {name}")
    else:
        print(f"\nprivate key (PKCS#8 PEM, keep it secret):\n{pair.private_pem}", end="")
    return 0


def write(pair: KeyPair, directory: Path, force: bool) -> dict[str, str]:
    """The three files, the private one readable by its owner only; an existing key file is
    never replaced unless ``force`` (a key lost is every card encrypted to it lost)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / name for kind, name in FILES.items()}
    existing = [str(path) for path in paths.values() if path.exists()]
    if existing and not force:
        raise FileExistsError(
            f"key files exist already, not replaced: {', '.join(existing)} (--force replaces them)"
        )
    contents = {"private": pair.private_pem, "public": pair.public_pem,
                "public_b64": pair.public_b64 + "\n"}  # fmt: skip
    for kind, path in paths.items():
        mode = 0o600 if kind == "private" else 0o644
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(contents[kind])
        os.chmod(path, mode)  # also when replacing a file made with other rights
    return {kind: str(path) for kind, path in paths.items()}
