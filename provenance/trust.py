"""Trust policy: which signers are trusted, which certificate uses are allowed, remote fetching.

The policy becomes c2pa-python settings, made into one ``Context`` per process for every read.
Nothing is downloaded: the trust lists are the bundled ones (``trustlists``) unless turned off,
plus anchors and EKU lists from files the user chose. Each list is a separate c2pa trust anchor
entry named after it, so c2pa's ``signingCredential.trusted`` explanation says which list made a
signer trusted.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from ._internal import c2pa_adapter
from .errors import TrustConfigError
from .trustlists import TrustList, defaults_enabled, load_lists

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
#: Environment variable: the allowed-EKU file (as ``--trust-config``).
TRUST_CONFIG_ENV = "PROVENANCE_TRUST_CONFIG"
#: The c2pa trust-anchor name (``trust_uri``) of the user's own anchors.
USER_ANCHORS = "user"


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

    ``lists``: trust lists (the bundled C2PA and interim lists by default, see
    :meth:`from_env`). ``anchors_pem``: the user's own PEM root (or intermediate) certificates.
    With neither, nobody is trusted and intact credentials read ``Valid``, never ``Trusted``.
    ``allowed_ekus``: OIDs a signer certificate may carry. ``allow_remote``: fetch manifests
    referenced by URL (off by default: fetching tells a third party what you are looking at,
    and reaches arbitrary addresses).
    """

    anchors_pem: str = ""
    allowed_ekus: tuple[str, ...] = field(default=tuple(o for o, _ in DEFAULT_ALLOWED_EKUS))
    allow_remote: bool = False
    sources: tuple[str, ...] = ()
    lists: tuple[TrustList, ...] = ()

    @classmethod
    def from_files(
        cls,
        anchors: Sequence[Path | str] = (),
        *,
        trust_config: Path | str | None = None,
        allow_remote: bool = False,
        default_lists: bool = False,
    ) -> TrustPolicy:
        """Build a policy from PEM anchor files and an optional EKU list file; with
        ``default_lists``, the bundled (or installed) trust lists too."""
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
        lists = load_lists() if default_lists else ()
        if trust_config is None:
            # The lists' own EKU configuration (the interim store.cfg) joins the default one; a
            # --trust-config file replaces both.
            ekus = tuple(dict.fromkeys([*ekus, *(e for lst in lists for e in lst.ekus)]))
        return cls("".join(pems), tuple(ekus), allow_remote, tuple(str(a) for a in anchors), lists)

    @classmethod
    def from_env(
        cls,
        extra_anchors: Sequence[Path | str] = (),
        *,
        trust_config: Path | str | None = None,
        allow_remote: bool = False,
        default_lists: bool | None = None,
    ) -> TrustPolicy:
        """The one way the CLI, the server and the library read trust configuration:
        ``$PROVENANCE_TRUST`` anchors plus ``extra_anchors``; ``trust_config`` else
        ``$PROVENANCE_TRUST_CONFIG``; the bundled trust lists unless ``default_lists`` is False
        (None: unless ``$PROVENANCE_DEFAULT_TRUST`` turns them off)."""
        env = [p for p in os.environ.get(TRUST_ENV, "").split(os.pathsep) if p]
        return cls.from_files(
            [*env, *extra_anchors],
            trust_config=trust_config or os.environ.get(TRUST_CONFIG_ENV) or None,
            allow_remote=allow_remote,
            default_lists=defaults_enabled() if default_lists is None else default_lists,
        )

    @property
    def configured(self) -> bool:
        """Whether anything can be trusted: a trust list or an anchor of the user's."""
        return bool(self.lists or self.anchors_pem)

    @property
    def anchor_count(self) -> int:
        return _check_anchors(self.anchors_pem.encode(), "anchors") if self.anchors_pem else 0

    def settings(self) -> dict[str, Any]:
        """The c2pa-python settings for this policy.

        Each list is its own ``trust.anchors`` entry named by ``trust_uri`` (c2pa names it in the
        ``signingCredential.trusted`` explanation). The interim list's allowed end-entity
        certificates go inside its entry: c2pa 0.91 ignores a top-level ``trust.allowed_list``
        (measured: Amazon Titan stays untrusted with it, Trusted with this form).
        """
        anchors: list[dict[str, Any]] = []
        for lst in self.lists:
            entry = {"trust_anchors": lst.anchors_pem, "trust_uri": lst.name}
            if lst.allowed:
                entry["allowed_list"] = lst.allowed
            anchors.append({**entry, "trust_kind": "manifest"})
            if lst.tsa_pem:
                tsa = {"trust_anchors": lst.tsa_pem, "trust_uri": f"{lst.name}-tsa"}
                anchors.append({**tsa, "trust_kind": "tsa"})
        if self.anchors_pem:
            # The user's anchors vouch for claim signers and for time-stamping authorities.
            for kind in ("manifest", "tsa"):
                anchors.append(
                    {
                        "trust_anchors": self.anchors_pem,
                        "trust_uri": USER_ANCHORS,
                        "trust_kind": kind,
                    }
                )
        trust: dict[str, Any] = {"trust_config": _format_ekus(self.allowed_ekus)}
        if anchors:
            trust["anchors"] = anchors
        return {
            "trust": trust,
            "verify": {"verify_trust": True, "remote_manifest_fetch": self.allow_remote},
        }

    def context(self) -> c2pa_adapter.Context:
        """This policy's c2pa Context, made once per process and reused by every read: making
        one parses the trust lists' certificates again (about 0.35 ms with the bundled lists)."""
        return _context(self, os.getpid())

    def describe(self) -> str:
        """One line for logs and start-up banners."""
        lists = [
            f"{lst.name} list ({lst.anchor_count} anchors"
            + (f", {lst.tsa_count} TSA" if lst.tsa_pem else "")
            + (f", {lst.allowed_count} allowed" if lst.allowed else "")
            + (f", {lst.date}" if lst.date else "")
            + ")"
            for lst in self.lists
        ]
        user = (
            f"{self.anchor_count} anchor(s) from {', '.join(self.sources)}"
            if self.sources
            else ("anchors given in memory" if self.anchors_pem else "")
        )
        anchors = "; ".join([*lists, *([user] if user else [])]) or "no trust anchors"
        remote = "remote manifests allowed" if self.allow_remote else "remote manifests off"
        return f"{anchors}; {len(self.allowed_ekus)} allowed EKUs; {remote}"


@functools.lru_cache(maxsize=8)
def _context(policy: TrustPolicy, process: int) -> c2pa_adapter.Context:
    """``policy``'s Context in ``process``: keyed by the process because c2pa-python refuses a
    Context a forked worker inherited from its parent; a few policies at once at most (the
    server has one, a test a handful)."""
    return c2pa_adapter.new_context(policy.settings())
