"""One owner for configuration: every `serve` flag and environment variable reaches the app's
Settings, and `verify`, `serve` and `create_app()` read trust the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extension_api import Settings, settings_from_args
from extension_api.app import SETTINGS, create_app
from provenance import InputError, TextWatermarkKey
from provenance.cli import build_parser, main
from provenance.text import ngram

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def text_spec(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("textkey")
    tokenizer = ngram.build_tokenizer(["the quick brown fox jumps over the lazy dog"] * 5)
    tokenizer.save(str(d / "tokenizer.json"))
    key = TextWatermarkKey.generate()
    (d / "key.txt").write_text(key.to_text())
    return f"{d / 'key.txt'}={d / 'tokenizer.json'}"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [
        "PROVENANCE_HOST",
        "PROVENANCE_PORT",
        "PROVENANCE_TRUST",
        "PROVENANCE_TRUST_CONFIG",
        "PROVENANCE_DEFAULT_TRUST",
        "PROVENANCE_API_KEYS",
        "PROVENANCE_MAX_BODY_MB",
        "PROVENANCE_RATE_LIMIT",
        "PROVENANCE_REQUEST_TIMEOUT",
        "PROVENANCE_WORKERS",
        "PROVENANCE_CACHE_SIZE",
        "PROVENANCE_CORS_ORIGINS",
        "PROVENANCE_FETCH_ALLOW",
        "PROVENANCE_TEXT_WATERMARKS",
    ]:
        monkeypatch.delenv(name, raising=False)


def _serve(*argv: str) -> Settings:
    return settings_from_args(build_parser().parse_args(["serve", *argv]))


def _ekus(path: Path) -> Path:
    path.write_text("// claimSigning only\n1.3.6.1.4.1.62558.2.1\n")
    return path


# (flag argv, env var, env value, check(settings))
CASES = [
    (["--host", "127.0.0.2"], "PROVENANCE_HOST", "127.0.0.2", lambda s: s.host == "127.0.0.2"),
    (["--port", "9999"], "PROVENANCE_PORT", "9999", lambda s: s.port == 9999),
    (["--api-key", "k1"], "PROVENANCE_API_KEYS", "k1", lambda s: s.api_keys == ("k1",)),
    (["--workers", "3"], "PROVENANCE_WORKERS", "3", lambda s: s.workers == 3),
    (["--rate-limit", "0"], "PROVENANCE_RATE_LIMIT", "0", lambda s: s.rate_limit == 0),
    (
        ["--request-timeout", "7"],
        "PROVENANCE_REQUEST_TIMEOUT",
        "7",
        lambda s: s.request_timeout == 7,
    ),
    (["--cache-size", "0"], "PROVENANCE_CACHE_SIZE", "0", lambda s: s.cache_size == 0),
    (["--max-body-mb", "2"], "PROVENANCE_MAX_BODY_MB", "2", lambda s: s.max_body == 2 * MIB),
    (
        ["--cors-origin", "https://a.example"],
        "PROVENANCE_CORS_ORIGINS",
        "https://a.example",
        lambda s: s.cors_origins == ("https://a.example",),
    ),
    (
        ["--fetch-allow", "127.0.0.1"],
        "PROVENANCE_FETCH_ALLOW",
        "127.0.0.1",
        lambda s: s.fetch_allow == ("127.0.0.1",),
    ),
    (["--queue", "0"], "PROVENANCE_QUEUE", "0", lambda s: s.queue == 0),
    (
        ["--max-megapixels", "12"],
        "PROVENANCE_MAX_MEGAPIXELS",
        "12",
        lambda s: s.max_pixels == 12_000_000,
    ),
    (["--max-text-mb", "2"], "PROVENANCE_MAX_TEXT_MB", "2", lambda s: s.max_text_bytes == 2 * MIB),
    (
        ["--max-connections", "64"],
        "PROVENANCE_MAX_CONNECTIONS",
        "64",
        lambda s: s.max_connections == 64,
    ),
    (
        ["--shutdown-timeout", "3"],
        "PROVENANCE_SHUTDOWN_TIMEOUT",
        "3",
        lambda s: s.shutdown_timeout == 3,
    ),
    (
        ["--max-inflight-mb", "300"],
        "PROVENANCE_MAX_INFLIGHT_MB",
        "300",
        lambda s: s.body_budget == 300 * MIB,
    ),
    (["--no-default-trust"], "PROVENANCE_DEFAULT_TRUST", "0", lambda s: s.trust.lists == ()),
    (["--threads", "5"], "PROVENANCE_THREADS", "5", lambda s: s.threads == 5),
    (["--cache-ttl", "60"], "PROVENANCE_CACHE_TTL", "60", lambda s: s.cache_ttl == 60),
    (
        ["--trusted-proxy", "10.0.0.0/8"],
        "PROVENANCE_TRUSTED_PROXIES",
        "10.0.0.0/8",
        lambda s: s.trusted_proxies == ("10.0.0.0/8",),
    ),
]


@pytest.mark.parametrize(("argv", "env", "value", "check"), CASES, ids=[c[1] for c in CASES])
def test_each_serve_flag_and_env_var_reaches_settings(
    argv: list[str], env: str, value: str, check, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not check(_serve())  # the default differs, so the test can fail
    assert check(_serve(*argv))
    monkeypatch.setenv(env, value)
    assert check(_serve())  # serve reads the variable
    assert check(Settings.from_env())  # and so does create_app()'s default


SIZE_LIMITS = [
    ("--max-body-mb", "PROVENANCE_MAX_BODY_MB"),
    ("--max-text-mb", "PROVENANCE_MAX_TEXT_MB"),
    ("--max-inflight-mb", "PROVENANCE_MAX_INFLIGHT_MB"),
]


@pytest.mark.parametrize(("flag", "env"), SIZE_LIMITS, ids=[f for f, _ in SIZE_LIMITS])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "abc"])
def test_a_size_limit_of_zero_or_less_is_refused(
    flag: str, env: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """0 MiB would refuse every body, and these limits cannot be turned off: the flag is
    refused with its own error line (0 used to be taken as "not given": the default), and
    so is the variable."""
    with pytest.raises(SystemExit) as exited:
        _serve(f"{flag}={value}")
    assert exited.value.code == 2
    reason = "is not a number" if value == "abc" else "must be more than 0 MiB"
    assert f"argument {flag}: " in capsys.readouterr().err
    monkeypatch.setenv(env, value)
    with pytest.raises(InputError, match=f"{env}={value}: .*{reason}"):
        Settings.from_env()
    assert main(["serve"]) == 1
    assert f"{env}={value}: " in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "env"), SIZE_LIMITS, ids=[f for f, _ in SIZE_LIMITS])
def test_an_infinite_size_limit_is_refused_in_one_line(
    flag: str, env: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """ "inf" parsed as a number and came out of int() as a traceback (OverflowError)."""
    with pytest.raises(SystemExit) as exited:
        _serve(f"{flag}=inf")
    assert exited.value.code == 2
    assert f"argument {flag}: 'inf' is not a finite number" in capsys.readouterr().err
    monkeypatch.setenv(env, "inf")
    with pytest.raises(InputError, match=f"{env}=inf: .*not a finite number"):
        Settings.from_env()


@pytest.mark.parametrize("value", ["99999", "0", "-1", "http"])
def test_a_port_out_of_range_is_refused_in_one_line(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """--port 99999 reached the socket's bind and came out as a traceback (OverflowError)."""
    with pytest.raises(SystemExit) as exited:
        _serve("--port", value)
    assert exited.value.code == 2
    reason = "is not a port number" if value == "http" else "a port is 1 to 65535"
    assert "argument --port: " in capsys.readouterr().err
    monkeypatch.setenv("PROVENANCE_PORT", value)
    with pytest.raises(InputError, match=f"PROVENANCE_PORT={value}: .*{reason}"):
        Settings.from_env()
    assert main(["serve"]) == 1
    assert f"PROVENANCE_PORT={value}: " in capsys.readouterr().err


def test_max_megapixels_0_leaves_only_the_librarys_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """0 megapixels means what the help says, no limit of the server's own (it used to be
    taken as "not given": 50), as the variable's 0 always did; below 0 is refused."""
    assert _serve("--max-megapixels", "0").max_pixels == 0
    monkeypatch.setenv("PROVENANCE_MAX_MEGAPIXELS", "0")
    assert Settings.from_env().max_pixels == 0
    with pytest.raises(SystemExit):
        _serve("--max-megapixels", "-1")


@pytest.mark.parametrize(
    ("flag", "env"),
    [("--registry", "PROVENANCE_REGISTRY"), ("--store", "PROVENANCE_STORE")],
    ids=["names", "earlier names"],
)
def test_registry_flag_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: str, env: str
) -> None:
    monkeypatch.delenv("PROVENANCE_REGISTRY")
    assert _serve(flag, str(tmp_path / "a.db")).registry_location == tmp_path / "a.db"
    monkeypatch.setenv(env, str(tmp_path / "b.db"))
    assert _serve().registry_location == tmp_path / "b.db"
    assert Settings.from_env().registry_location == tmp_path / "b.db"
    url = "postgresql://u:p@127.0.0.1:5432/db"
    assert _serve(flag, url).registry_location == url  # a URL stays a string
    monkeypatch.setenv(env, url)
    assert _serve().registry_location == url and Settings.from_env().registry_location == url


def test_the_registry_variable_wins_over_its_earlier_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_REGISTRY", str(tmp_path / "new.db"))
    monkeypatch.setenv("PROVENANCE_STORE", str(tmp_path / "old.db"))
    assert Settings.from_env().registry_location == tmp_path / "new.db"


def test_trust_flags_and_env(shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    anchors = str(shared / "test-anchors.pem")
    assert _serve("--trust", anchors).trust.sources == (anchors,)
    cfg = _ekus(tmp_path / "ekus.cfg")
    assert _serve("--trust-config", str(cfg)).trust.allowed_ekus == ("1.3.6.1.4.1.62558.2.1",)
    monkeypatch.setenv("PROVENANCE_TRUST", anchors)
    monkeypatch.setenv("PROVENANCE_TRUST_CONFIG", str(cfg))
    for settings in (_serve(), Settings.from_env()):
        assert settings.trust.sources == (anchors,)
        assert settings.trust.allowed_ekus == ("1.3.6.1.4.1.62558.2.1",)
        assert {lst.name for lst in settings.trust.lists} == {"c2pa", "interim"}


def test_create_app_honours_provenance_trust(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    anchors = str(shared / "test-anchors.pem")
    monkeypatch.setenv("PROVENANCE_TRUST", anchors)
    assert create_app()[SETTINGS].trust.sources == (anchors,)


def test_text_watermark_flag_and_env_reach_the_app(
    text_spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _serve().text_detectors == ()
    assert len(_serve("--text-watermark", text_spec).text_detectors) == 1
    monkeypatch.setenv("PROVENANCE_TEXT_WATERMARKS", text_spec)
    assert len(_serve().text_detectors) == 1
    assert len(Settings.from_env().text_detectors) == 1


def test_verify_honours_provenance_trust_config(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # Microsoft's test signer uses documentSigning; an EKU list without it refuses the signer
    # (the same check as --trust-config, tests/test_cli.py), here through the variable.
    cards = str(shared / "c2pa-extension-validator/test/media/cards_trusted.jpg")
    monkeypatch.setenv("PROVENANCE_TRUST", str(shared / "test-anchors.pem"))
    assert main(["verify", "--json", cards]) == 0
    assert json.loads(capsys.readouterr().out)["credentials"]["state"] == "Trusted"
    monkeypatch.setenv("PROVENANCE_TRUST_CONFIG", str(_ekus(tmp_path / "ekus.cfg")))
    assert main(["verify", "--json", cards]) == 0
    refused = json.loads(capsys.readouterr().out)["credentials"]
    assert refused["state"] == "Invalid" and "signingCredential.invalid" in refused["failures"]


def _key_id(spec: str) -> str:
    return TextWatermarkKey.from_file(spec.split("=")[0]).key_id


def test_serve_text_watermark_is_used_by_the_running_app(text_spec: str) -> None:
    """`serve --text-watermark` was parsed and ignored: now the live app tests text with it."""
    import urllib.request

    from .server import LiveServer

    settings = _serve("--text-watermark", text_spec, "--rate-limit", "0")
    with LiveServer(settings) as live:
        request = urllib.request.Request(
            live.url + "/v1/verify",
            data=b"the quick brown fox jumps over the lazy dog " * 4,
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            verdict = json.loads(response.read())
    assert verdict["text_watermark"]["key_id"] == _key_id(text_spec)


def test_verify_reads_text_watermarks_like_serve(
    text_spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    text = tmp_path / "t.txt"
    text.write_text("the quick brown fox jumps over the lazy dog " * 4)
    assert main(["verify", "--json", str(text)]) == 0
    assert json.loads(capsys.readouterr().out)["text_watermark"] is None
    monkeypatch.setenv("PROVENANCE_TEXT_WATERMARKS", text_spec)
    assert main(["verify", "--json", str(text)]) == 0
    assert json.loads(capsys.readouterr().out)["text_watermark"]["key_id"] == _key_id(text_spec)
