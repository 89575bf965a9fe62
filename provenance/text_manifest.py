"""A signed C2PA manifest inside unstructured text (C2PA 2.3 A.7 / 2.4 A.8): its wrapper, its
signing and reading, and the text binding.

Format: NFC text, then U+FEFF, then one variation selector per byte of a
``C2PATextManifestWrapper`` = magic ``C2PATXT\\0``, version 1, 4-byte big-endian length, the C2PA
manifest store (JUMBF). Byte b is U+FE00+b for b < 16, else U+E0100+(b-16). The hard binding is
a ``c2pa.hash.data`` assertion over the UTF-8 bytes of the NFC text with one exclusion: from the
U+FEFF to the end of the wrapper. We write no padding; we read padded wrappers, and SHA-256/384/512
bindings, as other signers write them. A leading byte-order mark is dropped before signing.

Why this route: c2pa-python 0.38.1 cannot sign ``text/plain``, but the native c2pa library it
bundles exports data-hashed signing, which the Python wrapper does not expose; the c2pa adapter
(``_internal.c2pa_adapter.sign_data_hashed``) calls it through ctypes. That keeps C2PA signing,
JUMBF and COSE in c2pa itself, with the same keys, signer and manifest definitions as images
(the pure-Python alternative signs Ed25519 only). The one circularity — the exclusion length
names the wrapper's UTF-8 length, which depends on the signed bytes (3 or 4 UTF-8 bytes per
selector) — is solved by re-signing with the length just measured until the two agree
(measured over 30 texts: median 9.5 signatures of 1.5 ms, at most 23; MAX_SIGNING_ROUNDS
bounds it).

Reading: c2pa's Reader validates the manifest store (signature, trust, assertions) but cannot
hash text, so it reports the data hash as unverifiable; this module checks the exclusion and the
hash of the text itself (``binding_matches``, C2PA 15.12.1.3.1) and puts the code it earns in
place of that one.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._internal import c2pa_adapter
from ._internal.renamed import renamed_keyword
from .errors import OutputError, ProvenanceError, Remedy, SigningError
from .files import write_output
from .fingerprint import TEXT_FINGERPRINT_ALG, TEXT_SKETCH_BITS, text_sketch
from .keys import SigningKeys
from .manifest import ManifestSpec, manifest_definition
from .media import decode_text, read_input
from .register import registered_manifest
from .registry import ManifestRegistry
from .registry.pending import PendingRegistry
from .trust import TrustPolicy

MAGIC = b"C2PATXT\0"
VERSION = 1
BOM = "\ufeff"
HEADER = len(MAGIC) + 1 + 4
MAX_SIGNING_ROUNDS = 200

CORRUPTED = "manifest.text.corruptedWrapper"
MULTIPLE = "manifest.text.multipleWrappers"
HASH_MATCH = "assertion.dataHash.match"
HASH_MISMATCH = "assertion.dataHash.mismatch"
ALG_UNSUPPORTED = "algorithm.unsupported"
#: The hash algorithms C2PA 13.1 allows for hard bindings.
HASH_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})


def _selector(b: int) -> str:
    return chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16)


#: A U+FEFF, the magic's selectors, and the rest of the contiguous selector run (A.8.4.2): one
#: regex pass that skips anything else at native speed, so finding wrappers is linear in the
#: text's length however many stray U+FEFF it holds (issue 11: it was quadratic).
_CANDIDATE = re.compile(
    re.escape(BOM + "".join(_selector(b) for b in MAGIC)) + "[\ufe00-\ufe0f\U000e0100-\U000e01ef]*"
)
#: Selector -> the Latin-1 character standing for its byte, for str.translate.
_DECODE = {0xFE00 + b: chr(b) for b in range(16)} | {
    0xE0100 + b - 16: chr(b) for b in range(16, 256)
}


def _decode(selectors: str) -> bytes:
    return selectors.translate(_DECODE).encode("latin-1")


def encode_wrapper(manifest_store: bytes) -> str:
    """U+FEFF and the selectors for a wrapper around ``manifest_store``."""
    raw = MAGIC + bytes([VERSION]) + len(manifest_store).to_bytes(4, "big") + manifest_store
    return BOM + "".join(_selector(b) for b in raw)


class WrapperProblem(enum.Enum):
    """Why a wrapper that starts with the magic cannot be read."""

    TRUNCATED = "truncated"  # the declared length runs past the selectors present
    VERSION = "version"  # a wrapper version this reader does not know
    UNREADABLE = "unreadable"  # complete, but c2pa cannot parse the manifest store in it
    MULTIPLE = "multiple"  # more than one readable wrapper (e.g. two signed texts pasted)


@dataclass(frozen=True, slots=True)
class Wrapper:
    """A wrapper found in text (character indexes into the text as given, not normalised)."""

    start: int  # the U+FEFF
    stop: int  # one past the last selector the declared length covers
    run_stop: int  # one past the contiguous selector run: ``stop`` plus any padding
    manifest_store: bytes | None  # None when ``problem`` says why
    problem: WrapperProblem | None = None


def find_wrappers(text: str) -> list[Wrapper]:
    """Every C2PA text wrapper in ``text`` (see ``iter_wrappers``)."""
    return list(iter_wrappers(text))


def iter_wrappers(text: str) -> Iterator[Wrapper]:
    """Every C2PA text wrapper: a U+FEFF whose selectors decode to the magic (A.8.4.2).

    A U+FEFF followed by selectors that do not start with the magic (a byte-order mark, an
    emoji's variation selector, stray invisible characters) is text, not a manifest. The
    wrapper ends where its declared length says; selectors after that in the same run are
    padding (the reference implementation's ``encode_wrapper_padded``), which the
    ``c2pa.hash.data`` exclusion may cover.
    """
    for m in _CANDIDATE.finditer(text):
        start, body = m.start(), m.start() + 1
        head = _decode(text[body : min(m.end(), body + HEADER)])
        if len(head) < HEADER:
            yield Wrapper(start, m.end(), m.end(), None, WrapperProblem.TRUNCATED)
        elif head[8] != VERSION:
            yield Wrapper(start, m.end(), m.end(), None, WrapperProblem.VERSION)
        elif m.end() - body < HEADER + (length := int.from_bytes(head[9:13], "big")):
            yield Wrapper(start, m.end(), m.end(), None, WrapperProblem.TRUNCATED)
        else:
            stop = body + HEADER + length
            yield Wrapper(start, stop, m.end(), _decode(text[body + HEADER : stop]))


def strip_wrappers(text: str) -> str:
    """The text without any manifest wrapper (padding and damaged wrappers included: each
    runs to the end of its selector run, as ``find_wrappers`` says)."""
    return _CANDIDATE.sub("", text)


def without_bom(text: str) -> str:
    """``text`` without a leading byte-order mark, unless that U+FEFF opens a wrapper.

    A leading U+FEFF is an encoding signature (Unicode 16.0, 23.8), which editors and
    readers add and drop at will; signing it would make the signature depend on that.
    """
    if text.startswith(BOM) and not _CANDIDATE.match(text):
        return text[1:]
    return text


@dataclass(frozen=True)
class SignedText:
    text: str
    manifest_id: str
    manifest_store: bytes
    signing_rounds: int


@renamed_keyword("store", "registry")
def sign_text(
    text: str,
    credentials: SigningKeys,
    spec: ManifestSpec | None = None,
    *,
    title: str = "text",
    tsa_url: str | None = None,
    registry: ManifestRegistry | None = None,
) -> SignedText:
    """NFC-normalise ``text`` and append a signed manifest declaring ``spec``.

    With a ``registry``, the manifest is registered under the text's fingerprint (character and
    word n-grams, see ``fingerprint.text_sketch``), so a stripped or lightly edited copy can be
    matched to it later.

    The hard binding is SHA-256: c2pa's data-hashed signing writes its own ``alg``
    (sha256) into the assertion whatever the caller asks, so SHA-384/512 are read, not
    written.
    """
    for w in iter_wrappers(text):
        if w.manifest_store is not None:
            raise ProvenanceError(
                "the text already carries a C2PA manifest",
                hint="verify it, or strip it before signing anew",
            )
        why = w.problem.value if w.problem else "damaged"
        raise ProvenanceError(
            f"the text carries a damaged C2PA manifest wrapper ({why})",
            hint="remove the invisible characters after its U+FEFF before signing",
        )
    # A leading byte-order mark is not signed: readers drop it (see without_bom).
    visible = unicodedata.normalize("NFC", without_bom(text))
    body = visible.encode("utf-8")
    definition = manifest_definition(spec or ManifestSpec(), title=title)
    for assertion in definition["assertions"]:
        if assertion["label"] == "c2pa.actions":
            assertion["created"] = True  # C2PA 2.4: actions belong in created_assertions
    digest = list(hashlib.sha256(body).digest())
    length = 0
    with credentials.signer(tsa_url) as signer:
        for rounds in range(1, MAX_SIGNING_ROUNDS + 1):
            data_hash = {
                "exclusions": [{"start": len(body), "length": length}],
                "name": "jumbf manifest",
                "alg": "sha256",
                "hash": digest,
                "pad": [],
            }
            manifest_store = c2pa_adapter.sign_data_hashed(definition, signer, data_hash)
            wrapper = encode_wrapper(manifest_store)
            actual = len(wrapper.encode("utf-8"))
            if actual == length:
                report = c2pa_adapter.read_manifest_store(manifest_store, name=title)
                sketch = text_sketch(visible)
                if registry is not None and sketch is not None:
                    registry.register(
                        registered_manifest(
                            report,
                            manifest_store,
                            watermark_id=registry.new_watermark_id(),
                            alg=TEXT_FINGERPRINT_ALG,
                            binding_value=f"{sketch:0{TEXT_SKETCH_BITS // 4}x}",
                            media_type="text/plain",
                            fingerprint=sketch >> (TEXT_SKETCH_BITS - 64),
                        )
                    )
                return SignedText(visible + wrapper, report.active_label, manifest_store, rounds)
            length = actual
    raise SigningError("the text manifest's length did not settle; try again")


@dataclass(frozen=True)
class TextManifest:
    """What reading a text's manifest found: the Reader's report, and the text binding."""

    report: dict[str, Any] | None
    state: str | None
    binding_codes: list[str]  # HASH_MATCH / HASH_MISMATCH / CORRUPTED / MULTIPLE / ALG_...
    #: Why no manifest could be read (``report`` is None): a damaged wrapper, or several.
    problem: WrapperProblem | None = None
    #: The binding fails, yet holds for the text's NFC form: only the Unicode normalisation
    #: changed after signing (still Invalid, as 15.12.1.3.1 and the other validators say).
    renormalised: bool = False


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def binding_matches(
    text: str, wrapper: Wrapper, binding: dict[str, Any], claim_alg: str | None
) -> str:
    """The code the ``c2pa.hash.data`` assertion earns over ``text`` (as stored, not NFC).

    C2PA 2.4, 15.12.1.3.1 steps 5-7, which A.8.5 names as the normative procedure: remove the
    bytes the exclusion range names from the text *as stored*, then NFC-normalise what
    remains, encode it as UTF-8 and hash it. (A.8.7.3's "perform normalization before
    calculating offsets" contradicts this; encypher-c2pa and c2patxt both follow 15.12.1.3.1,
    and so do we: an NFD copy of signed text is Invalid in all three.) The exclusion must
    start at the wrapper's U+FEFF and cover the wrapper, plus any padding selectors after it
    (the reference implementation pads; c2patxt does not).
    """
    alg = binding.get("alg") or claim_alg or "sha256"
    if alg not in HASH_ALGORITHMS:
        return ALG_UNSUPPORTED
    start = _utf8_len(text[: wrapper.start])
    least = start + _utf8_len(text[wrapper.start : wrapper.stop])
    most = least + _utf8_len(text[wrapper.stop : wrapper.run_stop])
    exclusions = binding.get("exclusions") or []
    if len(exclusions) != 1:
        return HASH_MISMATCH
    first, length = exclusions[0].get("start"), exclusions[0].get("length")
    if first != start or not isinstance(length, int) or not least <= start + length <= most:
        return HASH_MISMATCH
    raw = text.encode("utf-8")
    try:
        kept = (raw[:start] + raw[start + length :]).decode("utf-8")
    except UnicodeDecodeError:  # a crafted length ends inside a selector: not the signed text
        return HASH_MISMATCH
    digest = hashlib.new(alg, unicodedata.normalize("NFC", kept).encode("utf-8")).digest()
    return HASH_MATCH if base64.b64decode(binding.get("hash", "")) == digest else HASH_MISMATCH


def read_text_manifest(text: str, policy: TrustPolicy) -> TextManifest | None:
    """The manifest in ``text`` judged by c2pa plus the text binding; None if there is none.

    ``text`` is the text as stored (decoded, not normalised): the binding's offsets index it.
    """
    first, readable = None, []
    for w in iter_wrappers(text):  # no list of them all: a text may hold a million decoys
        first = first or w
        if w.manifest_store is not None:
            readable.append(w)
            if len(readable) > 1:
                return TextManifest(None, "Invalid", [MULTIPLE], WrapperProblem.MULTIPLE)
    if first is None:
        return None
    if not readable:
        return TextManifest(None, "Invalid", [CORRUPTED], first.problem)
    # A damaged decoy beside a readable wrapper cannot hide it (as in c2patxt).
    wrapper = readable[0]
    assert wrapper.manifest_store is not None
    try:
        found = c2pa_adapter.read_manifest_store(
            wrapper.manifest_store, name="text", context=policy.context(), detailed=True
        )
    except ProvenanceError:
        return TextManifest(None, "Invalid", [CORRUPTED], WrapperProblem.UNREADABLE)
    detailed = found.detailed or {}
    active = detailed["manifests"][detailed["active_manifest"]]
    binding = (active.get("assertion_store") or {}).get("c2pa.hash.data") or {}
    claim_alg = (active.get("claim") or {}).get("alg")
    code = binding_matches(text, wrapper, binding, claim_alg)
    if code == HASH_MISMATCH and (other := _bom_variant(text)) is not None:
        # The same text with a byte-order mark an editor added, or a reader dropped, after
        # signing: a BOM is an encoding signature, not content (Unicode 16.0, 23.8).
        shift = len(other) - len(text)
        moved = dataclasses.replace(
            wrapper,
            start=wrapper.start + shift,
            stop=wrapper.stop + shift,
            run_stop=wrapper.run_stop + shift,
        )
        code = binding_matches(other, moved, binding, claim_alg)
    renormalised = False
    if code == HASH_MISMATCH and (nfc := unicodedata.normalize("NFC", text)) != text:
        readable_nfc = [w for w in iter_wrappers(nfc) if w.manifest_store is not None]
        renormalised = (
            len(readable_nfc) == 1
            and binding_matches(nfc, readable_nfc[0], binding, claim_alg) == HASH_MATCH
        )
    return TextManifest(found.report, found.state, [code], renormalised=renormalised)


def _bom_variant(text: str) -> str | None:
    """``text`` with its leading BOM dropped, or with one added; None if that would open a
    wrapper."""
    if text.startswith(BOM):
        dropped = without_bom(text)
        return dropped if dropped != text else None
    return BOM + text


@renamed_keyword("store", "registry")
def sign_text_file(
    source: Path,
    output: Path,
    credentials: SigningKeys,
    spec: ManifestSpec | None = None,
    *,
    tsa_url: str | None = None,
    registry: ManifestRegistry | None = None,
    overwrite: bool = False,
) -> SignedText:
    """:func:`sign_text` for the UTF-8 file ``source`` into ``output``, atomically: the registry
    row (if any) only with the file (see ``PendingRegistry``), and an existing ``output`` only
    replaced if ``overwrite`` (refused before signing: a refusal costs nothing)."""
    data = read_input(source)
    text = decode_text(data, str(source))
    if output.exists() and not overwrite:
        raise OutputError(
            f"{output}: already exists", hint="allow replacing it", remedy=Remedy.REPLACE_OUTPUT
        )
    pending = PendingRegistry(registry) if registry is not None else None
    signed = sign_text(
        text,
        credentials,
        spec,
        title=source.name,
        tsa_url=tsa_url,
        registry=pending.as_registry() if pending else None,
    )
    try:
        write_output(
            output,
            signed.text.encode("utf-8"),
            replace=overwrite,
            before_commit=pending.commit if pending else None,
        )
    except BaseException:
        if pending is not None:
            pending.rollback()
        raise
    return signed
