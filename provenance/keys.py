"""Signing credentials: a development PKI (`keys init`), loading a chain and key, a c2pa Signer.

C2PA validators accept a signing certificate only with a particular profile (end-entity, critical
digitalSignature key usage, an allowed EKU, key identifiers), which is why users of c2pa-python so
often fail to make one. :func:`init_keys` makes a three-level chain with that profile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import platformdirs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from ._internal.c2pa_adapter import Signer, create_signer
from .errors import KeysError, Remedy
from .files import atomic_write

#: id-kp-documentSigning (RFC 9336); C2PA validators accept it for claim signing.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

CHAIN_FILE = "chain.pem"
KEY_FILE = "signer.key"
ROOT_FILE = "root.pem"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class KeyAlg(StrEnum):
    """Signing algorithms `keys init` can make keys for (C2PA names)."""

    ES256 = "es256"
    PS256 = "ps256"
    ED25519 = "ed25519"


def default_keys_dir() -> Path:
    """The per-user directory `keys init` writes to and `sign` reads from by default."""
    return Path(platformdirs.user_config_dir("provenance")) / "keys"


@dataclass(frozen=True)
class KeyPaths:
    """Where `keys init` wrote the credentials."""

    dir: Path
    chain: Path
    key: Path
    root: Path

    @classmethod
    def in_dir(cls, directory: Path) -> KeyPaths:
        return cls(directory, directory / CHAIN_FILE, directory / KEY_FILE, directory / ROOT_FILE)


def _new_key(alg: KeyAlg) -> PrivateKey:
    if alg is KeyAlg.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg is KeyAlg.PS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return ed25519.Ed25519PrivateKey.generate()


def _digest_for(key: PrivateKey) -> hashes.SHA256 | None:
    # Ed25519 signs without a separate digest; cryptography wants None for it.
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: x509.Name,
    key: PrivateKey,
    issuer: x509.Name,
    issuer_key: PrivateKey,
    *,
    ca: bool,
    path_length: int | None,
    days: int,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A little slack so that a freshly made chain validates on a machine whose clock lags.
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
    return builder.sign(issuer_key, _digest_for(issuer_key))


def _name(org: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def init_keys(
    directory: Path | None = None,
    *,
    alg: KeyAlg | str = KeyAlg.ES256,
    org: str = "Provenance Development",
    force: bool = False,
) -> KeyPaths:
    """Make a development root CA, an intermediate and a signer; write them into ``directory``.

    Writes ``chain.pem`` (signer + intermediate), ``signer.key`` (mode 0600) and ``root.pem`` (the
    trust anchor to give verifiers). Refuses to replace existing files unless ``force``.
    """
    try:
        alg = KeyAlg(str(alg).lower())
    except ValueError:
        choices = ", ".join(a.value for a in KeyAlg)
        raise KeysError(f"unknown key algorithm {alg!r}", hint=f"choose one of {choices}") from None
    paths = KeyPaths.in_dir(Path(directory) if directory else default_keys_dir())
    existing = [p for p in (paths.chain, paths.key, paths.root) if p.exists()]
    if existing and not force:
        raise KeysError(
            f"keys already exist in {paths.dir}",
            hint="allow replacing them, or write them somewhere else",
            remedy=Remedy.REPLACE_KEYS,
        )

    root_key, int_key, signer_key = _new_key(alg), _new_key(alg), _new_key(alg)
    root_name = _name(org, f"{org} Root CA")
    int_name = _name(org, f"{org} Intermediate CA")
    root = _certificate(root_name, root_key, root_name, root_key, ca=True, path_length=1, days=3650)
    intermediate = _certificate(
        int_name, int_key, root_name, root_key, ca=True, path_length=0, days=1825
    )
    signer = _certificate(
        _name(org, f"{org} Content Signer"),
        signer_key,
        int_name,
        int_key,
        ca=False,
        path_length=None,
        days=730,
    )
    key_pem = signer_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        # 0700 whatever the umask: the directory holds a private key.
        paths.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(paths.dir):
            # Checked again under the lock: of two concurrent runs, the second sees the first's
            # complete set and refuses, instead of mixing its key with the other's chain.
            if not force and any(p.exists() for p in (paths.chain, paths.key, paths.root)):
                raise KeysError(
                    f"keys already exist in {paths.dir}",
                    hint="allow replacing them, or write them somewhere else",
                    remedy=Remedy.REPLACE_KEYS,
                )
            atomic_write(paths.key, key_pem, mode=0o600)
            atomic_write(paths.chain, _pem(signer) + _pem(intermediate))
            atomic_write(paths.root, _pem(root))
    except FileExistsError as exc:
        # mkdir's "File exists" for a file in the way read as if keys were there.
        raise KeysError(
            f"cannot write keys to {paths.dir}: it is a file, not a directory",
            hint="name a directory to hold the keys (it is made if missing)",
        ) from exc
    except OSError as exc:
        raise KeysError(f"cannot write keys to {paths.dir}: {exc.strerror or exc}") from exc
    return paths


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on the directory itself (no lock file left behind), across processes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _alg_for_key(key: object) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in by_curve:
            return by_curve[key.curve.name]
        raise KeysError(f"C2PA does not allow the elliptic curve {key.curve.name}")
    raise KeysError(f"C2PA cannot sign with a {type(key).__name__} key")


def _public_bytes(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class SigningKeys:
    """A certificate chain and its private key, checked against each other.

    ``repr`` never shows the key.
    """

    chain_pem: bytes
    key_pem: bytes
    alg: str
    signer_certificate: x509.Certificate

    def __repr__(self) -> str:
        return f"SigningKeys(alg={self.alg!r}, subject={self.subject!r})"

    @property
    def subject(self) -> str:
        return self.signer_certificate.subject.rfc4514_string()

    @property
    def organization(self) -> str | None:
        """The signer's organisation (what verifiers show as the signer), else its CN."""
        for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
            attrs = self.signer_certificate.subject.get_attributes_for_oid(oid)
            if attrs:
                return str(attrs[0].value)
        return None

    @classmethod
    def from_pem(
        cls, chain_pem: bytes, key_pem: bytes, *, source: str = "", key_source: str = ""
    ) -> SigningKeys:
        """``source`` and ``key_source`` name the chain's and the key's files in errors."""
        where = f" in {source}" if source else ""
        key_where = f" in {key_source}" if key_source else where
        try:
            certs = x509.load_pem_x509_certificates(chain_pem)
        except ValueError:
            raise KeysError(
                f"no PEM certificate chain{where}",
                hint="give the signer certificate first, then its intermediates",
            ) from None
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except TypeError:
            raise KeysError(
                f"the private key{key_where} is encrypted", hint="give an unencrypted PEM key"
            ) from None
        except ValueError:
            raise KeysError(f"no readable PEM private key{key_where}") from None
        signer = certs[0]
        if _public_bytes(signer.public_key()) != _public_bytes(key.public_key()):
            raise KeysError(
                f"the private key{key_where} does not belong to the first certificate of the "
                f"chain{where}",
                hint="the chain must start with the signer's own certificate",
            )
        try:
            constraints = signer.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is not None and constraints.ca:
            raise KeysError(
                f"the signing certificate{where} is a CA certificate; C2PA needs an end-entity one"
            )
        return cls(chain_pem, key_pem, _alg_for_key(key), signer)

    @classmethod
    def load(
        cls, cert: Path | None = None, key: Path | None = None, *, keys_dir: Path | None = None
    ) -> SigningKeys:
        """Load ``cert``+``key`` if given, else ``chain.pem``+``signer.key`` from ``keys_dir``."""
        if (cert is None) != (key is None):
            raise KeysError(
                "a certificate chain and its private key go together",
                hint="give both, or neither",
                remedy=Remedy.CERT_WITH_KEY,
            )
        if cert is None or key is None:
            paths = KeyPaths.in_dir(Path(keys_dir) if keys_dir else default_keys_dir())
            cert, key = paths.chain, paths.key
            if not cert.exists() or not key.exists():
                raise KeysError(
                    f"no signing keys in {paths.dir}",
                    hint="make development keys first (init_keys), or give your own "
                    "certificate chain and key",
                    remedy=Remedy.MAKE_KEYS,
                )
        try:
            chain_pem, key_pem = Path(cert).read_bytes(), Path(key).read_bytes()
        except OSError as exc:
            raise KeysError(f"cannot read {exc.filename}: {exc.strerror}") from exc
        return cls.from_pem(chain_pem, key_pem, source=str(cert), key_source=str(key))

    def signer(self, tsa_url: str | None = None) -> Signer:
        """A c2pa Signer; ``tsa_url`` adds an RFC 3161 timestamp (none is needed offline)."""
        return create_signer(self.alg, self.chain_pem, self.key_pem, tsa_url)
