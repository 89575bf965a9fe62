"""`keys init`: the certificate profile C2PA needs, file modes, no accidental overwrite."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance import (
    KeyAlg,
    KeysError,
    ManifestSpec,
    Remedy,
    SigningKeys,
    SignOptions,
    TrustPolicy,
    init_keys,
    sign,
    verify,
)
from provenance.keys import DOCUMENT_SIGNING


def _chain(keys_dir: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates((keys_dir / "chain.pem").read_bytes())


def test_signer_certificate_has_the_c2pa_profile(keys):
    signer, intermediate = _chain(keys.dir)
    root = x509.load_pem_x509_certificate(keys.root.read_bytes())
    assert signer.issuer == intermediate.subject and intermediate.issuer == root.subject
    basic = signer.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.value.ca is False
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    ekus = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in ekus and DOCUMENT_SIGNING in ekus
    ski = signer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = signer.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    int_ski = intermediate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest and aki.key_identifier == int_ski.digest
    assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_private_key_is_owner_only(keys):
    assert stat.S_IMODE(keys.key.stat().st_mode) == 0o600


def test_refuses_to_overwrite_without_force(keys):
    before = keys.key.read_bytes()
    with pytest.raises(KeysError, match="already exist"):
        init_keys(keys.dir)
    assert keys.key.read_bytes() == before


def test_force_replaces(tmp_path):
    first = init_keys(tmp_path).key.read_bytes()
    assert init_keys(tmp_path, force=True).key.read_bytes() != first


@pytest.mark.parametrize("alg", list(KeyAlg))
def test_every_algorithm_signs_and_verifies_trusted(tmp_path, photo, alg):
    paths = init_keys(tmp_path / "k", alg=alg)
    creds = SigningKeys.load(keys_dir=paths.dir)
    out = tmp_path / "out.jpg"
    sign(photo, creds, SignOptions(ManifestSpec(generator="G")), output=out)
    verdict = verify(out, policy=TrustPolicy.from_files([paths.root]))
    assert verdict.credentials.state == "Trusted", verdict.credentials.failures


def test_own_chain_and_key_by_path(tmp_path, keys, photo):
    creds = SigningKeys.load(keys.chain, keys.key)
    out = tmp_path / "o.jpg"
    sign(photo, creds, output=out)
    assert verify(out).credentials.present


def test_key_that_does_not_match_the_chain_is_refused(tmp_path, keys):
    other = init_keys(tmp_path)
    with pytest.raises(KeysError, match="does not belong"):
        SigningKeys.load(keys.chain, other.key)


def test_missing_keys_say_what_to_do(tmp_path):
    with pytest.raises(KeysError) as err:
        SigningKeys.load(keys_dir=tmp_path / "none")
    assert "init_keys" in str(err.value) and err.value.remedy is Remedy.MAKE_KEYS


def test_repr_never_shows_the_key(credentials):
    assert "PRIVATE" not in repr(credentials) and "PRIVATE" not in str(credentials)
