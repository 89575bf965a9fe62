"""The bundled trust lists: which list made a signer trusted; turning them off; replacing them.

Expectations come from tests/data/peers/EXPECTED.md ("Real products' files") and the lists'
own contents, not from our output.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import multiprocessing
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import c2pa
import pytest

from provenance import TrustPolicy, verify
from provenance._internal import c2pa_adapter
from provenance.cli import main
from provenance.errors import TrustListError
from provenance.media import media_type_of
from provenance.trustlists import BUNDLED_DIR, load_lists, update_lists

FIREFLY = "example-assets/images/Firefly_tabby_cat.jpg"
GOOGLE_VIDEO = "huminify-c2pa-detector/examples/videotest.mp4"
PHOTOSHOP = "c2pa-rs/sdk/tests/fixtures/ocsp.jpg"
TITAN = "c2pa-ts/tests/fixtures/amazon-titan-g1.png"

# (file, state with the bundled lists, trust_list, AI scope) — EXPECTED.md, last section.
REAL_PRODUCTS = [
    (FIREFLY, "Trusted", "interim", "whole"),
    (GOOGLE_VIDEO, "Trusted", "c2pa", "whole"),
    (PHOTOSHOP, "Trusted", "interim", "part"),
]


@pytest.fixture(autouse=True)
def _bundled_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    # Never the developer's own installed copy or settings.
    for name in ("PROVENANCE_TRUST_LISTS", "PROVENANCE_DEFAULT_TRUST", "PROVENANCE_TRUST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROVENANCE_TRUST_LISTS", str(BUNDLED_DIR))


@pytest.mark.parametrize(("name", "state", "trust_list", "scope"), REAL_PRODUCTS)
def test_real_products_are_trusted_by_the_right_list(
    shared: Path, name: str, state: str, trust_list: str, scope: str
) -> None:
    verdict = verify(shared / name, registry=None)  # no policy: the default trust
    c = verdict.credentials
    assert (c.state, c.trust_list, c.failures) == (state, trust_list, [])
    assert verdict.ai.generated is True and verdict.ai.scope == scope
    words = {"c2pa": "official C2PA trust list", "interim": "legacy interim trust list"}
    assert words[trust_list] in verdict.summary


def test_without_the_lists_the_real_products_are_not_trusted(
    shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # EXPECTED.md "no anchors": Firefly Valid (untrusted); Google's short-lived certificate
    # reads as expired without the TSA list.
    monkeypatch.setenv("PROVENANCE_DEFAULT_TRUST", "0")
    firefly = verify(shared / FIREFLY, registry=None).credentials
    assert firefly.state == "Valid" and "signingCredential.untrusted" in firefly.failures
    assert firefly.trust_list is None
    google = verify(shared / GOOGLE_VIDEO, registry=None).credentials
    assert google.state == "Invalid" and "signingCredential.expired" in google.failures


def test_cli_no_default_trust_flag(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--json", str(shared / FIREFLY)]) == 0
    assert json.loads(capsys.readouterr().out)["credentials"]["trust_list"] == "interim"
    assert main(["verify", "--json", "--no-default-trust", str(shared / FIREFLY)]) == 0
    off = json.loads(capsys.readouterr().out)["credentials"]
    assert off["state"] == "Valid" and off["trust_list"] is None


def test_user_anchor_is_named_user(shared: Path) -> None:
    policy = TrustPolicy.from_env([shared / "test-anchors.pem"])
    c = verify(
        shared / "c2pa-rs/sdk/tests/fixtures/C.jpg", policy=policy, registry=None
    ).credentials
    assert (c.state, c.trust_list) == ("Trusted", "user")
    # The bundled lists stay on beside it.
    firefly = verify(shared / FIREFLY, policy=policy, registry=None).credentials
    assert firefly.trust_list == "interim"


def _titan_state(shared: Path, trust: dict) -> str:
    settings = {"trust": trust, "verify": {"verify_trust": True, "remote_manifest_fetch": False}}
    data = (shared / TITAN).read_bytes()
    with c2pa.Reader("image/png", io.BytesIO(data), None, c2pa.Context.from_dict(settings)) as r:
        return str(r.get_validation_state())


def test_allowed_list_works_only_inside_an_anchor_entry(shared: Path) -> None:
    """The measurement behind TrustPolicy.settings(): Amazon Titan's end-entity certificate is
    on the interim allowed list (not under any anchor). c2pa 0.91 silently ignores a top-level
    ``trust.allowed_list``; inside a ``trust.anchors`` entry it works."""
    allowed = (BUNDLED_DIR / "interim" / "allowed.sha256.txt").read_text()
    assert _titan_state(shared, {"allowed_list": allowed}) == "Valid"
    entry = {"trust_anchors": "", "trust_kind": "manifest", "allowed_list": allowed}
    assert _titan_state(shared, {"anchors": [entry]}) == "Trusted"
    c = verify(shared / TITAN, registry=None).credentials
    assert (c.state, c.trust_list) == ("Trusted", "interim")


READ_BY_CONTEXT = [FIREFLY, GOOGLE_VIDEO, PHOTOSHOP, TITAN, "c2pa-rs/sdk/tests/fixtures/C.jpg"]


def _judged(report: c2pa_adapter.ManifestReport | None) -> tuple[object, ...]:
    """The state and every validation code. Not the explanations: where one root is on two
    lists (Google's, on the C2PA list and its TSA list), which entry c2pa names varies from
    one Context to the next (verdict.py reads both names as one list)."""
    assert report is not None
    results = report.report["validation_results"]["activeManifest"]
    codes = {kind: sorted(e["code"] for e in results[kind]) for kind in sorted(results)}
    return report.state, report.report["active_manifest"], codes


def test_a_policys_context_is_typed_as_c2pas_context() -> None:
    """``TrustPolicy.context()`` says it returns c2pa-python's Context (not Any), so mypy,
    which reads c2pa's annotations (pyproject.toml), checks every read it is passed to."""
    import typing

    from provenance import trust

    hints = typing.get_type_hints(TrustPolicy.context, vars(trust))
    assert hints["return"] is c2pa.Context
    assert isinstance(TrustPolicy().context(), c2pa.Context)


def test_one_context_per_policy_reads_as_fresh_ones_do(shared: Path) -> None:
    """A policy's Context is made once (per process) and reused: every read through it judges
    as a read with a Context of its own did, in turn and from several threads at once."""
    policy = TrustPolicy.from_env([shared / "test-anchors.pem"])
    assert policy.context() is policy.context()
    assert TrustPolicy.from_env([shared / "test-anchors.pem"]).context() is policy.context()
    assert TrustPolicy.from_env().context() is not policy.context()
    files = [(shared / name).read_bytes() for name in READ_BY_CONTEXT]

    def judged(data: bytes, **how: object) -> tuple[object, ...]:
        return _judged(c2pa_adapter.read(media_type_of(data), data, name="f", **how))  # type: ignore[arg-type]

    fresh = [judged(data, settings=policy.settings()) for data in files]
    assert [j[0] for j in fresh] == ["Trusted", "Trusted", "Trusted", "Trusted", "Trusted"]
    assert [judged(data, context=policy.context()) for data in files] == fresh
    with ThreadPoolExecutor(4) as threads:
        rounds = list(threads.map(lambda d: judged(d, context=policy.context()), files * 4))
    assert rounds == fresh * 4


def _state_in_a_forked_child(policy: TrustPolicy, path: Path) -> str | None:
    return verify(path, policy=policy, registry=None, watermark=False).credentials.state


def test_a_forked_process_makes_its_own_context(shared: Path) -> None:
    """c2pa-python refuses a Context made before fork(): a forked worker builds its own."""
    policy = TrustPolicy.from_env()
    policy.context()  # made in this process, before the fork
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=fork) as child:
        state = child.submit(_state_in_a_forked_child, policy, shared / FIREFLY).result(60)
    assert state == "Trusted"


def test_bundled_lists_carry_their_provenance() -> None:
    lists = {lst.name: lst for lst in load_lists(BUNDLED_DIR)}
    # Counts from ../shared/trust/README.md.
    assert (lists["c2pa"].anchor_count, lists["c2pa"].tsa_count) == (30, 22)
    assert lists["interim"].anchor_count == 27 and lists["interim"].allowed_count == 114
    for lst in lists.values():
        assert lst.source and lst.date and lst.licence and lst.version
    assert (BUNDLED_DIR / "c2pa-official" / "LICENSE").is_file()


def test_trust_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trust", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["default_trust"] is True
    assert [r["name"] for r in shown["lists"]] == ["c2pa", "interim"]
    assert shown["lists"][0]["tsa_anchors"] == 22


def _partial_copy(tmp_path: Path) -> Path:
    """A source holding only the official list (a newer one, say)."""
    src = tmp_path / "src"
    (src / "c2pa-official").mkdir(parents=True)
    for name in ("C2PA-TRUST-LIST.pem", "C2PA-TSA-TRUST-LIST.pem", "LICENSE"):
        shutil.copy(BUNDLED_DIR / "c2pa-official" / name, src / "c2pa-official" / name)
    return src


def test_update_from_a_directory_keeps_lists_the_source_lacks(tmp_path: Path) -> None:
    target = update_lists(str(_partial_copy(tmp_path)), target=tmp_path / "installed")
    lists = {lst.name: lst for lst in load_lists(target)}
    assert lists["c2pa"].source == str(tmp_path / "src")  # says where it came from
    assert lists["interim"].anchor_count == 27  # kept from the current copy


@pytest.fixture
def loopback_site(tmp_path: Path) -> Iterator[str]:
    src = _partial_copy(tmp_path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(src))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_update_from_a_url_on_loopback(
    loopback_site: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "installed"
    assert main(["trust", "update", "--from", loopback_site, "--dir", str(target)]) == 0
    assert "Installed" in capsys.readouterr().out
    lists = {lst.name: lst for lst in load_lists(target)}
    assert lists["c2pa"].anchor_count == 30 and lists["c2pa"].source == loopback_site


def test_update_refuses_what_is_not_a_trust_list(tmp_path: Path) -> None:
    bad = tmp_path / "bad" / "c2pa-official"
    bad.mkdir(parents=True)
    (bad / "C2PA-TRUST-LIST.pem").write_text("not a certificate\n")
    with pytest.raises(TrustListError, match="no PEM certificates"):
        update_lists(str(tmp_path / "bad"), target=tmp_path / "installed")
    assert not (tmp_path / "installed").exists()  # nothing replaced
    with pytest.raises(TrustListError, match="holds no trust list"):
        update_lists(str(tmp_path), target=tmp_path / "installed")


def _full_copy(tmp_path: Path) -> Path:
    src = tmp_path / "full"
    shutil.copytree(BUNDLED_DIR, src)
    return src


@pytest.mark.parametrize(
    ("rel", "content", "error"),
    [
        # Random bytes, or text that is not hashes / OIDs, would silently untrust signers.
        ("interim/allowed.sha256.txt", bytes(range(256)) * 4, "not a text file"),
        ("interim/allowed.sha256.txt", b"# hashes\nnot-a-hash\n", "line 2: 'not-a-hash'"),
        ("interim/store.cfg", b"// EKUs\n1.3.6.1.5.5.7.3.4\nnot an oid\n", "line 3"),
        ("interim/store.cfg", b"// only a comment\n", "is empty"),
        ("SOURCES.json", b"\x00garbage{", "is not JSON"),
        ("SOURCES.json", b'["c2pa"]', "not an object"),
    ],
)
def test_update_refuses_garbled_files_and_replaces_nothing(
    tmp_path: Path, rel: str, content: bytes, error: str
) -> None:
    src = _full_copy(tmp_path)
    (src / rel).write_bytes(content)
    installed = update_lists(str(_partial_copy(tmp_path)), target=tmp_path / "installed")
    before = {p: p.read_bytes() for p in installed.rglob("*") if p.is_file()}
    with pytest.raises(TrustListError, match=error) as caught:
        update_lists(str(src), target=installed)
    assert f"{src}/{rel}" in str(caught.value)  # names the file
    assert {p: p.read_bytes() for p in installed.rglob("*") if p.is_file()} == before


def test_update_never_replaces_a_directory_holding_other_files(tmp_path: Path) -> None:
    # `--dir ~/Documents` must not wipe ~/Documents.
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(TrustListError, match=r"holds other files \(notes.txt\)"):
        update_lists(str(BUNDLED_DIR), target=precious)
    assert (precious / "notes.txt").read_text() == "mine"
    with pytest.raises(TrustListError, match="is a file"):
        update_lists(str(BUNDLED_DIR), target=precious / "notes.txt")
    # An earlier install is replaced, as is an empty directory.
    installed = update_lists(str(BUNDLED_DIR), target=tmp_path / "empty")
    assert update_lists(str(_partial_copy(tmp_path)), target=installed) == installed


def test_a_damaged_copy_in_use_is_an_error_not_silent_distrust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _full_copy(tmp_path)
    (copy / "interim/anchors.pem").write_text("junk\n")
    monkeypatch.setenv("PROVENANCE_TRUST_LISTS", str(copy))
    with pytest.raises(TrustListError, match=r"interim/anchors\.pem holds no PEM certificates"):
        TrustPolicy.from_env()


def test_update_from_a_missing_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(TrustListError, match="does not exist"):
        update_lists(str(tmp_path / "nowhere"), target=tmp_path / "installed")


def test_update_refuses_plain_http_off_loopback(tmp_path: Path) -> None:
    with pytest.raises(TrustListError, match="https"):
        update_lists("http://example.org/trust/", target=tmp_path / "installed")
