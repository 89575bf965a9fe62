"""provenance: sign and verify Content Credentials (C2PA) for AI-generated content.

The public API, used by the CLI, the server and anyone embedding the library::

    from provenance import SigningCredentials, SignOptions, ManifestSpec, sign, verify
    creds = SigningCredentials.load(keys_dir=...)
    sign("in.jpg", creds, SignOptions(ManifestSpec(generator="Acme Diffusion")), output="out.jpg")
    verdict = verify("out.jpg", policy=TrustPolicy.from_files(["root.pem"]))
    print(verdict.summary)
"""

from ._version import __version__
from .credentials import KeyAlg, KeyPaths, SigningCredentials, default_keys_dir, init_keys
from .errors import (
    InputError,
    KeysError,
    MalformedAssetError,
    ManifestError,
    MissingExtraError,
    NotIssuedError,
    OutputError,
    ProvenanceError,
    SigningError,
    TooManyPixelsError,
    UnsupportedMediaError,
)
from .manifest import AI_SOURCE_TYPES, SOURCE_TYPES, ManifestSpec, resolve_source_type
from .register import register_manifest
from .sign import (
    PriorCredentials,
    SignOptions,
    SignResult,
    Thumbnail,
    sign,
    sign_bytes,
    sign_file,
)
from .store import (
    AsyncManifestStore,
    ManifestStore,
    StoredManifest,
    StoreError,
    StoreUnavailableError,
    default_store_path,
)
from .text import TextWatermarkKey
from .trust import TrustConfigError, TrustPolicy
from .verdict import AIOrigin, Credentials, Ingredient, Match, SignerInfo, Verdict
from .verify import FINGERPRINT_ALG, TextDetector, find_matches, manifest_thumbnail, verify
from .watermark import ALG as WATERMARK_ALG
from .watermark import identifier_from_binding

__all__ = [
    "AI_SOURCE_TYPES",
    "FINGERPRINT_ALG",
    "SOURCE_TYPES",
    "WATERMARK_ALG",
    "AIOrigin",
    "AsyncManifestStore",
    "Credentials",
    "Ingredient",
    "InputError",
    "KeyAlg",
    "KeyPaths",
    "KeysError",
    "MalformedAssetError",
    "ManifestError",
    "ManifestSpec",
    "ManifestStore",
    "Match",
    "MissingExtraError",
    "NotIssuedError",
    "OutputError",
    "PriorCredentials",
    "ProvenanceError",
    "SignOptions",
    "SignResult",
    "SignerInfo",
    "SigningCredentials",
    "SigningError",
    "StoreError",
    "StoreUnavailableError",
    "StoredManifest",
    "TextDetector",
    "TextWatermarkKey",
    "Thumbnail",
    "TooManyPixelsError",
    "TrustConfigError",
    "TrustPolicy",
    "UnsupportedMediaError",
    "Verdict",
    "__version__",
    "default_keys_dir",
    "default_store_path",
    "find_matches",
    "identifier_from_binding",
    "init_keys",
    "manifest_thumbnail",
    "register_manifest",
    "resolve_source_type",
    "sign",
    "sign_bytes",
    "sign_file",
    "verify",
]
