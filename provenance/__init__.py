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
    OutputError,
    ProvenanceError,
    SigningError,
    UnsupportedMediaError,
)
from .manifest import AI_SOURCE_TYPES, SOURCE_TYPES, ManifestSpec, resolve_source_type
from .sign import SignOptions, SignResult, Thumbnail, sign, sign_bytes, sign_file
from .trust import TrustConfigError, TrustPolicy
from .verdict import AIOrigin, Credentials, Ingredient, SignerInfo, Verdict
from .verify import verify

__all__ = [
    "AI_SOURCE_TYPES",
    "SOURCE_TYPES",
    "AIOrigin",
    "Credentials",
    "Ingredient",
    "InputError",
    "KeyAlg",
    "KeyPaths",
    "KeysError",
    "MalformedAssetError",
    "ManifestError",
    "ManifestSpec",
    "OutputError",
    "ProvenanceError",
    "SignOptions",
    "SignResult",
    "SignerInfo",
    "SigningCredentials",
    "SigningError",
    "Thumbnail",
    "TrustConfigError",
    "TrustPolicy",
    "UnsupportedMediaError",
    "Verdict",
    "__version__",
    "default_keys_dir",
    "init_keys",
    "resolve_source_type",
    "sign",
    "sign_bytes",
    "sign_file",
    "verify",
]
