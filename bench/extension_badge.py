"""Time to a badge for a 1 MP signed JPEG: checked in the browser (c2pa's WASM build in the
extension's background) vs by the service (c2pa-python behind /v1/verify), same page, same image.

Baseline, measured in the same run: the service path (the extension with "Check embedded
credentials in this browser" off, as every check went before). Times are the content script's own
(from the image being loaded to its badge drawn), read from the badge; each trial opens a fresh
page whose image URL is new, so nothing is cached. "browser, cold" stops the extension's service
worker before each trial: the time then includes starting it and compiling the 9 MB WASM module.

    uv run python -m bench.extension_badge [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from aiohttp import web

from bench._common import natural_jpeg, table, write_json
from extension_api import Settings
from provenance import ManifestSpec, SigningKeys, SignOptions, TrustPolicy, init_keys, sign
from tests.extension_browser import CHROMIUM, extension_browser
from tests.server import LiveServer


def _site(image: bytes) -> web.Application:
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        n = request.query.get("n", "0")
        html = f"<!doctype html><title>bench</title><img src='/img.jpg?n={n}' width='500'>"
        return web.Response(text=html, content_type="text/html")

    async def img(_: web.Request) -> web.Response:
        return web.Response(body=image, content_type="image/jpeg")

    app.router.add_get("/", page)
    app.router.add_get("/img.jpg", img)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("needs /usr/bin/chromium (apt-get install chromium)")
    keys = init_keys(Path(tempfile.mkdtemp()) / "keys")
    creds = SigningKeys.load(keys_dir=keys.dir)
    spec = ManifestSpec(generator="Bench Diffusion")
    signed = sign(natural_jpeg(1), creds, SignOptions(spec)).asset or b""
    settings = Settings(
        registry_location=Path(tempfile.mkdtemp()) / "m.sqlite3",
        trust=TrustPolicy.from_files([keys.root]),
        rate_limit=0,
    )
    counter = iter(range(10**6))
    rows = []
    with (
        LiveServer(settings) as service,
        LiveServer(factory=lambda: _site(signed)) as site,
        extension_browser(service.url, user_anchors=keys.root.read_text()) as (context, _),
    ):

        def trial(stop_worker: bool = False) -> float:
            page = context.new_page()
            if stop_worker:
                cdp = context.new_cdp_session(page)
                cdp.send("ServiceWorker.enable")
                cdp.send("ServiceWorker.stopAllWorkers")
            page.goto(f"{site.url}/?n={next(counter)}")
            badge = page.locator("provenance-overlay .badge")
            badge.wait_for(timeout=60000)
            assert badge.inner_text() == "AI-generated", badge.inner_text()
            ms = float(badge.get_attribute("data-ms") or "nan")
            where = badge.get_attribute("data-where")
            page.close()
            return ms if where else float("nan")

        def mode(label: str, check_locally: bool, stop_worker: bool = False) -> list[float]:
            context.service_workers[0].evaluate(
                "(v) => chrome.storage.sync.set({checkLocally: v})", check_locally
            )
            trial()  # warm-up: page machinery, the first WASM compile, the service's first read
            times = [trial(stop_worker) for _ in range(args.runs)]
            print(f"{label}: {', '.join(f'{t:.0f}' for t in times)} ms")
            return times

        results = {
            "service (baseline)": mode("service", check_locally=False),
            "browser, warm": mode("browser, warm", check_locally=True),
            "browser, cold worker": mode("browser, cold", check_locally=True, stop_worker=True),
        }
    base = statistics.median(results["service (baseline)"])
    for label, times in results.items():
        median = statistics.median(times)
        rows.append(
            {
                "path": label,
                "median ms": f"{median:.0f}",
                "min ms": f"{min(times):.0f}",
                "max ms": f"{max(times):.0f}",
                "ratio": f"{median / base:.2f}",
            }
        )
    print(f"\nTime to a badge, 1 MP signed JPEG ({len(signed) // 1024} KB), {args.runs} runs each")
    print(table(rows, ["path", "median ms", "min ms", "max ms", "ratio"]))
    path = write_json(
        "extension_badge",
        {"image_bytes": len(signed), "runs": args.runs, "times_ms": results, "rows": rows},
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
