"""provenance: sign and verify Content Credentials (C2PA) for AI-generated content.

The public API, used by the CLI, the server and anyone embedding the library::

    from provenance import SigningKeys, SignOptions, ManifestSpec, sign, verify
    creds = SigningKeys.load(keys_dir=...)
    sign("in.jpg", creds, SignOptions(ManifestSpec(generator="Acme Diffusion")), output="out.jpg")
    verdict = verify("out.jpg", policy=TrustPolicy.from_files(["root.pem"]))
    print(verdict.summary)
"""

from typing import TYPE_CHECKING

# `options`: the flags the CLI and the server's own command line share (see its doc).
from . import options
from ._internal.lazy import lazy_names
from ._version import __version__
from .errors import (
    InputError,
    KeysError,
    MalformedAssetError,
    ManifestError,
    MissingExtraError,
    NotIssuedError,
    OutputError,
    ProvenanceError,
    RegistryError,
    RegistryUnavailableError,
    Remedy,
    RemoteManifestError,
    SigningError,
    TooManyPixelsError,
    TrustConfigError,
    TrustListError,
    UnsupportedMediaError,
    WatermarkSizeError,
    os_error_line,
)
from .keys import KeyAlg, KeyPaths, SigningKeys, default_keys_dir, init_keys
from .manifest import AI_SOURCE_TYPES, SOURCE_TYPES, ManifestSpec, resolve_source_type
from .media import declared_size, declared_text, media_type_of, megapixels
from .register import register_manifest
from .registry import (
    AsyncManifestRegistry,
    ManifestRegistry,
    RegisteredManifest,
    default_registry_location,
    is_postgres_url,
    redacted,
)
from .sign import (
    PriorCredentials,
    SignOptions,
    SignResult,
    Thumbnail,
    sign,
    sign_bytes,
    sign_file,
)
from .text import TextWatermarkKey, TextWatermarkResult
from .trust import TrustPolicy
from .verdict import (
    AIOrigin,
    Credentials,
    Doc,
    Evidence,
    Ingredient,
    Match,
    MatchKind,
    Orientation,
    Scope,
    SignerInfo,
    Source,
    State,
    TrustList,
    Verdict,
)
from .verify import FINGERPRINT_ALG, TextDetector, find_matches, manifest_thumbnail, verify
from .verify import TOO_SMALL as WATERMARK_TOO_SMALL
from .watermark import ALG as WATERMARK_ALG
from .watermark import WatermarkResult, binding_value, identifier_from_binding, payload_hex

if TYPE_CHECKING:
    from .registry import PostgresRegistry


# Loaded when first named, with psycopg (see provenance.registry).
__getattr__ = lazy_names(__name__, {"PostgresRegistry": ".registry"})


__all__ = [
    "AI_SOURCE_TYPES",
    "FINGERPRINT_ALG",
    "SOURCE_TYPES",
    "WATERMARK_ALG",
    "WATERMARK_TOO_SMALL",
    "AIOrigin",
    "AsyncManifestRegistry",
    "Credentials",
    "Doc",
    "Evidence",
    "Ingredient",
    "InputError",
    "KeyAlg",
    "KeyPaths",
    "KeysError",
    "MalformedAssetError",
    "ManifestError",
    "ManifestRegistry",
    "ManifestSpec",
    "Match",
    "MatchKind",
    "MissingExtraError",
    "NotIssuedError",
    "Orientation",
    "OutputError",
    "PostgresRegistry",
    "PriorCredentials",
    "ProvenanceError",
    "RegisteredManifest",
    "RegistryError",
    "RegistryUnavailableError",
    "Remedy",
    "RemoteManifestError",
    "Scope",
    "SignOptions",
    "SignResult",
    "SignerInfo",
    "SigningError",
    "SigningKeys",
    "Source",
    "State",
    "TextDetector",
    "TextWatermarkKey",
    "TextWatermarkResult",
    "Thumbnail",
    "TooManyPixelsError",
    "TrustConfigError",
    "TrustList",
    "TrustListError",
    "TrustPolicy",
    "UnsupportedMediaError",
    "Verdict",
    "WatermarkResult",
    "WatermarkSizeError",
    "__version__",
    "binding_value",
    "declared_size",
    "declared_text",
    "default_keys_dir",
    "default_registry_location",
    "find_matches",
    "identifier_from_binding",
    "init_keys",
    "is_postgres_url",
    "manifest_thumbnail",
    "media_type_of",
    "megapixels",
    "options",
    "os_error_line",
    "payload_hex",
    "redacted",
    "register_manifest",
    "resolve_source_type",
    "sign",
    "sign_bytes",
    "sign_file",
    "verify",
]
