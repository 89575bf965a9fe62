"""The C2PA trust lists shipped with the project, and replacing them without a release.

Two lists: the official C2PA trust list with its time-stamping (TSA) list, and the legacy
interim list (frozen; its header asks validators to tell the two apart). They live in
``provenance/data/trust``; ``provenance trust update --from DIR|URL`` installs a newer copy in
the per-user data directory, which then takes precedence. Nothing is fetched unless asked.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import platformdirs
from cryptography import x509

from .errors import Remedy, TrustListError

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "trust"
SOURCES = "SOURCES.json"
#: Environment variable: "0", "off", "false" or "no" turns the bundled lists off (a closed
#: deployment that trusts only its own anchors).
DEFAULT_TRUST_ENV = "PROVENANCE_DEFAULT_TRUST"
#: Environment variable: a directory holding trust lists in the bundled layout, used instead of
#: the per-user copy and the bundled one.
TRUST_LISTS_ENV = "PROVENANCE_TRUST_LISTS"

#: list name -> {role: relative path}. Roles: anchors (claim signers), tsa (time-stamping
#: authorities), allowed (end-entity certificates, PEM or base64 SHA-256 lines), ekus.
LAYOUT: dict[str, dict[str, str]] = {
    "c2pa": {
        "anchors": "c2pa-official/C2PA-TRUST-LIST.pem",
        "tsa": "c2pa-official/C2PA-TSA-TRUST-LIST.pem",
    },
    "interim": {
        "anchors": "interim/anchors.pem",
        "allowed": "interim/allowed.sha256.txt",
        "ekus": "interim/store.cfg",
    },
}
#: Licence files copied along with the lists on update (when the source has them).
_LICENCES = (
    "c2pa-official/LICENSE",
    "interim/LICENSE-verification-plugin",
    "interim/LICENSE-verify-site",
)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: A trust list file is small (the official one is 38 KB); refuse anything absurd.
_MAX_FILE = 4 * 1024 * 1024


@dataclass(frozen=True)
class TrustList:
    """One list: its certificates (PEM text) and where it came from."""

    name: str
    title: str
    anchors_pem: str
    tsa_pem: str = ""
    allowed: str = ""
    ekus: tuple[str, ...] = ()
    source: str = ""
    version: str = ""
    date: str = ""
    licence: str = ""
    directory: str = ""

    @property
    def anchor_count(self) -> int:
        return _count_pem(self.anchors_pem)

    @property
    def tsa_count(self) -> int:
        return _count_pem(self.tsa_pem)

    @property
    def allowed_count(self) -> int:
        pems = _count_pem(self.allowed)
        hashes = sum(1 for line in self.allowed.splitlines() if _is_hash_line(line))
        return pems + hashes


def _count_pem(pem: str) -> int:
    return pem.count("-----BEGIN CERTIFICATE-----")


def _is_hash_line(line: str) -> bool:
    # c2pa's allowed-list format: base64 SHA-256 of a certificate's DER, 44 characters.
    line = line.strip()
    return len(line) == 44 and line.endswith("=") and not line.startswith("#")


def _check_pem(data: bytes, where: str) -> None:
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TrustListError(f"{where} holds no PEM certificates") from None


def _ekus(text: str) -> tuple[str, ...]:
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and all(p.isdigit() for p in line.split(".")))


def _content_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the lines that are neither blank nor comments."""
    lines = ((n, line.strip()) for n, line in enumerate(text.splitlines(), 1))
    return [(n, line) for n, line in lines if line and not line.startswith(("#", "//"))]


def _check_file(role: str, data: bytes, where: str) -> None:
    """Refuse a file that is not what its role needs, before anything is replaced (a garbled
    allowed list or EKU file would silently untrust signers)."""
    if role in {"anchors", "tsa"} or (role == "allowed" and b"-----BEGIN" in data):
        _check_pem(data, where)
        return
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise TrustListError(f"{where} is not a text file") from None
    lines = _content_lines(text)
    if role == "allowed":
        bad = next(((n, line) for n, line in lines if not _is_hash_line(line)), None)
        what = "a base64 SHA-256 certificate hash (or the file a PEM list)"
    else:
        bad = next(((n, line) for n, line in lines if line not in _ekus(line)), None)
        what = "a dotted OID (c2pa's trust_config format)"
    if bad is not None:
        raise TrustListError(f"{where} line {bad[0]}: {bad[1][:60]!r} is not {what}")
    if not lines:
        raise TrustListError(f"{where} is empty")


def user_dir() -> Path:
    """Where `trust update` installs lists (takes precedence over the bundled ones)."""
    return Path(platformdirs.user_data_dir("provenance")) / "trust"


def active_dir() -> Path:
    """The directory the lists are read from: $PROVENANCE_TRUST_LISTS, else the per-user copy
    when one was installed, else the bundled one."""
    env = os.environ.get(TRUST_LISTS_ENV)
    if env:
        return Path(env)
    installed = user_dir()
    return installed if (installed / SOURCES).is_file() else BUNDLED_DIR


def defaults_enabled() -> bool:
    """False when $PROVENANCE_DEFAULT_TRUST turns the bundled lists off."""
    value = os.environ.get(DEFAULT_TRUST_ENV, "").strip().lower()
    return value not in {"0", "off", "false", "no"}


def load_lists(directory: Path | None = None) -> tuple[TrustList, ...]:
    """The trust lists in ``directory`` (default: :func:`active_dir`)."""
    directory = Path(directory) if directory is not None else active_dir()
    try:
        stamp = (directory / SOURCES).stat().st_mtime_ns
    except OSError:
        raise TrustListError(
            f"no trust lists in {directory} ({SOURCES} is missing)",
            hint=f"install trust lists there (update_lists) or unset ${TRUST_LISTS_ENV}",
            remedy=Remedy.INSTALL_TRUST_LISTS,
        ) from None
    return _load(str(directory), stamp)


@lru_cache(maxsize=4)
def _load(directory: str, _stamp: int) -> tuple[TrustList, ...]:
    root = Path(directory)
    try:
        sources = json.loads((root / SOURCES).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrustListError(f"{root / SOURCES} is unreadable: {exc}") from exc
    lists = []
    for name, roles in LAYOUT.items():
        texts: dict[str, str] = {}
        for role, rel in roles.items():
            path = root / rel
            if path.is_file():
                data = path.read_bytes()
                # A damaged copy (edited by hand, or not from `trust update`) would silently
                # untrust every signer it should vouch for: say so instead.
                _check_file(role, data, str(path))
                texts[role] = data.decode("utf-8", errors="replace")
        if "anchors" not in texts:
            continue  # a list that is not installed is simply absent
        info = sources.get(name) or {}
        lists.append(
            TrustList(
                name=name,
                title=str(info.get("title", name)),
                anchors_pem=texts["anchors"],
                tsa_pem=texts.get("tsa", ""),
                allowed=texts.get("allowed", ""),
                ekus=_ekus(texts.get("ekus", "")),
                source=str(info.get("source", "")),
                version=str(info.get("version", "")),
                date=str(info.get("date", "")),
                licence=str(info.get("licence", "")),
                directory=str(root),
            )
        )
    return tuple(lists)


# -- update -------------------------------------------------------------------------------------


def _fetch(url: str, timeout: float) -> bytes | None:
    """A file's bytes over HTTP(S), or None when the server says it does not exist."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: bytes = response.read(_MAX_FILE + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise TrustListError(f"cannot fetch {url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TrustListError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}") from exc
    if len(data) > _MAX_FILE:
        raise TrustListError(f"{url} is larger than {_MAX_FILE // 1024} KiB: not a trust list")
    return data


def _reader(source: str, timeout: float):  # type: ignore[no-untyped-def]
    """A function rel-path -> bytes | None for a directory or an http(s) base URL."""
    parsed = urllib.parse.urlparse(source)
    scheme = parsed.scheme
    if scheme == "http" and parsed.hostname not in _LOOPBACK:
        # Trust anchors over plain HTTP could be swapped on the way.
        raise TrustListError(f"{source}: fetch trust lists over https (http only on loopback)")
    if scheme in {"http", "https"}:
        base = source if source.endswith("/") else source + "/"
        return lambda rel: _fetch(urllib.parse.urljoin(base, rel), timeout)
    if scheme and len(scheme) > 1:
        raise TrustListError(f"{source}: only a directory or an http(s) URL can be used")
    root = Path(source)
    if not root.is_dir():
        raise TrustListError(
            f"{source} {'is not a directory' if root.exists() else 'does not exist'}"
        )

    def read(rel: str) -> bytes | None:
        path = root / rel
        if not path.is_file():
            return None
        if path.stat().st_size > _MAX_FILE:
            raise TrustListError(f"{path} is larger than {_MAX_FILE // 1024} KiB")
        return path.read_bytes()

    return read


def _joined(source: str, rel: str) -> str:
    return f"{source.rstrip('/')}/{rel}"


def _sources(data: bytes | None, where: str) -> dict[str, dict[str, str]]:
    """A source's own SOURCES.json (list name -> provenance), checked; {} when it has none."""
    if data is None:
        return {}
    try:
        sources = json.loads(data)
    except ValueError as exc:  # JSON and Unicode errors alike
        raise TrustListError(f"{where} is not JSON ({exc})") from None
    if not isinstance(sources, dict) or not all(isinstance(v, dict) for v in sources.values()):
        raise TrustListError(f"{where} is not an object of lists (name -> source, date, ...)")
    return sources


def _check_replaceable(target: Path) -> None:
    """Installing replaces ``target`` whole: only a new or empty directory, or an earlier
    install of the lists (nothing else in it), may be replaced; anything else would be lost."""
    if not target.exists():
        return
    if not target.is_dir():
        raise TrustListError(f"{target} is a file, not a directory")
    known = {
        SOURCES,
        *(rel.split("/", 1)[0] for roles in LAYOUT.values() for rel in roles.values()),
    }
    entries = {entry.name for entry in target.iterdir()}
    if entries and (SOURCES not in entries or not entries <= known):
        others = ", ".join(sorted(entries - known)[:3]) or "no SOURCES.json"
        raise TrustListError(
            f"{target} holds other files ({others}); installing would replace it whole",
            hint="install into a new or empty directory, or one holding only trust lists",
        )


def update_lists(source: str, *, target: Path | None = None, timeout: float = 20.0) -> Path:
    """Install the lists found at ``source`` (a directory in the bundled layout, or an http(s)
    URL of one) into ``target`` (default: the per-user directory). Every PEM is checked before
    anything is replaced; a list the source lacks is kept from the current copy."""
    read = _reader(source, timeout)
    current = active_dir()
    target = Path(target) if target is not None else user_dir()
    _check_replaceable(target)
    found: dict[str, bytes] = {}
    for roles in LAYOUT.values():
        for role, rel in roles.items():
            data = read(rel)
            if data is None:
                continue
            _check_file(role, data, _joined(source, rel))
            found[rel] = data
    if not any(rel.endswith(".pem") for rel in found):
        raise TrustListError(
            f"{source} holds no trust list",
            hint="expected c2pa-official/C2PA-TRUST-LIST.pem and/or interim/anchors.pem",
        )
    for rel in _LICENCES:
        data = read(rel)
        if data is not None:
            found[rel] = data
    try:
        old_sources = json.loads((current / SOURCES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old_sources = {}
    fetched = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    new_sources = _sources(read(SOURCES), _joined(source, SOURCES))
    sources: dict[str, dict[str, str]] = {}
    for name, roles in LAYOUT.items():
        if roles["anchors"] in found:
            info = dict(old_sources.get(name) or {})
            info.update(new_sources.get(name) or {})
            if not new_sources.get(name):
                info.update(source=source, date=fetched, version=f"installed {fetched}")
            sources[name] = info
        elif name in old_sources:
            sources[name] = old_sources[name]
    files = dict(found)
    for name, roles in LAYOUT.items():
        if name in sources and roles["anchors"] not in found:
            for rel in roles.values():  # a list the source lacks is kept as it was
                if (current / rel).is_file():
                    files[rel] = (current / rel).read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".trust-", dir=target.parent))
    try:
        for rel, data in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_bytes(data)
        (staging / SOURCES).write_text(json.dumps(sources, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
