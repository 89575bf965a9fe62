"""Trust policy: which signers are trusted, which certificate uses are allowed, remote fetching.

The policy becomes c2pa-python settings (a ``Context``) for each read. Nothing is downloaded: trust
anchors and EKU lists are files the user chose.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509

from .errors import ProvenanceError

#: Certificate uses (EKUs) accepted for a claim signer. c2pa's built-in list lacks
#: documentSigning, so signers that use it (ours, Microsoft's) would read
#: ``signingCredential.invalid`` without this list.
DEFAULT_ALLOWED_EKUS: tuple[tuple[str, str], ...] = (
    ("1.3.6.1.5.5.7.3.4", "id-kp-emailProtection"),
    ("1.3.6.1.5.5.7.3.36", "id-kp-documentSigning"),
    ("1.3.6.1.5.5.7.3.8", "id-kp-timeStamping"),
    ("1.3.6.1.5.5.7.3.9", "id-kp-OCSPSigning"),
    ("1.3.6.1.4.1.311.76.59.1.9", "Microsoft C2PA signing"),
    ("1.3.6.1.4.1.62558.2.1", "c2pa-kp-claimSigning"),
)

#: Environment variable: trust anchor PEM files, separated by the OS path separator.
TRUST_ENV = "PROVENANCE_TRUST"


class TrustConfigError(ProvenanceError):
    """A trust anchor or EKU file cannot be used."""


def _format_ekus(ekus: Iterable[str]) -> str:
    return "".join(f"{oid}\n" for oid in ekus)


def _parse_eku_config(text: str, source: str) -> tuple[str, ...]:
    """Read c2pa's trust_config format: one OID per line, ``//`` comments."""
    oids = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("//") or line.startswith("#"):
            continue
        if not all(part.isdigit() for part in line.split(".")):
            raise TrustConfigError(f"{source}: {line!r} is not a dotted OID")
        oids.append(line)
    if not oids:
        raise TrustConfigError(f"{source} lists no extended key usages")
    return tuple(oids)


def _check_anchors(pem: bytes, source: str) -> int:
    try:
        return len(x509.load_pem_x509_certificates(pem))
    except ValueError:
        raise TrustConfigError(f"{source} holds no PEM certificates") from None


@dataclass(frozen=True)
class TrustPolicy:
    """What a verifier trusts.

    ``anchors_pem``: concatenated PEM root (or intermediate) certificates; empty trusts nobody, so
    intact credentials read ``Valid`` rather than ``Trusted``. ``allowed_ekus``: OIDs a signer
    certificate may carry. ``allow_remote``: fetch manifests referenced by URL (off by default:
    fetching tells a third party what you are looking at, and reaches arbitrary addresses).
    """

    anchors_pem: str = ""
    allowed_ekus: tuple[str, ...] = field(default=tuple(o for o, _ in DEFAULT_ALLOWED_EKUS))
    allow_remote: bool = False
    sources: tuple[str, ...] = ()

    @classmethod
    def from_files(
        cls,
        anchors: Sequence[Path | str] = (),
        *,
        trust_config: Path | str | None = None,
        allow_remote: bool = False,
    ) -> TrustPolicy:
        """Build a policy from PEM anchor files and an optional EKU list file."""
        pems: list[str] = []
        for path in anchors:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise TrustConfigError(f"cannot read trust anchors {path}: {exc.strerror}") from exc
            _check_anchors(data, str(path))
            pems.append(data.decode("ascii", errors="replace").strip() + "\n")
        ekus = cls.allowed_ekus
        if trust_config is not None:
            try:
                text = Path(trust_config).read_text(encoding="utf-8")
            except OSError as exc:
                raise TrustConfigError(
                    f"cannot read trust config {trust_config}: {exc.strerror}"
                ) from exc
            ekus = _parse_eku_config(text, str(trust_config))
        return cls("".join(pems), tuple(ekus), allow_remote, tuple(str(a) for a in anchors))

    @classmethod
    def from_env(cls, extra_anchors: Sequence[Path | str] = (), **kwargs: Any) -> TrustPolicy:
        """Like :meth:`from_files`, adding the anchors listed in ``$PROVENANCE_TRUST``."""
        env = [p for p in os.environ.get(TRUST_ENV, "").split(os.pathsep) if p]
        return cls.from_files([*env, *extra_anchors], **kwargs)

    @property
    def anchor_count(self) -> int:
        return _check_anchors(self.anchors_pem.encode(), "anchors") if self.anchors_pem else 0

    def settings(self) -> dict[str, Any]:
        """The c2pa-python settings for this policy."""
        trust: dict[str, Any] = {"trust_config": _format_ekus(self.allowed_ekus)}
        if self.anchors_pem:
            trust["user_anchors"] = self.anchors_pem
        return {
            "trust": trust,
            "verify": {"verify_trust": True, "remote_manifest_fetch": self.allow_remote},
        }

    def context(self) -> c2pa.Context:
        """A fresh c2pa Context (one per read: contexts are not shared between tasks)."""
        return c2pa.Context.from_dict(self.settings())

    def describe(self) -> str:
        """One line for logs and start-up banners."""
        anchors = (
            f"{self.anchor_count} anchor(s) from {', '.join(self.sources)}"
            if self.sources
            else ("anchors given in memory" if self.anchors_pem else "no trust anchors")
        )
        remote = "remote manifests allowed" if self.allow_remote else "remote manifests off"
        return f"{anchors}; {len(self.allowed_ekus)} allowed EKUs; {remote}"
