// Background (Chrome's service worker, Firefox's event page): checks embedded Content
// Credentials here, in the browser, with the official WASM build of c2pa and the trust lists
// the Python side ships; asks the provenance service only for what needs it (images without
// embedded credentials, for watermark and fingerprint recovery; images the page cannot read),
// and only when the reader allows it. Runs the "Check provenance" context-menu entry.
import initC2pa, { WasmReader } from "./vendor/c2pa-wasm/c2pa.js";
import { verdictOf, textVerdictOf, unreadableKind, unreadableSentence, splitLibraryError } from "./verdict.js";
import { readTextManifest } from "./text_manifest.js";

const DEFAULTS = {
  backend: "http://127.0.0.1:8787",
  autoScan: true,
  checkLocally: true,          // read embedded credentials in the browser
  useService: true,            // ask the service about what the browser cannot judge
  useServiceInPrivate: false,  // ... in private (incognito) windows too
};
const MAX_CONCURRENT = 2;      // service requests in flight at once
const MIN_INTERVAL_MS = 100;   // and at most ten starts per second
// The trust lists, by the name a verdict gives them (credentials.trust_list); copied from the
// Python side by tools/build_extension.py, never kept apart.
// Entries as provenance/trust.py makes them: [trust_uri, anchors, kind, allowed end-entity list].
const TRUST_LISTS = [
  ["c2pa", "trust/C2PA-TRUST-LIST.pem", "manifest", null],
  ["c2pa-tsa", "trust/C2PA-TSA-TRUST-LIST.pem", "tsa", null],
  ["interim", "trust/anchors.pem", "manifest", "trust/allowed.sha256.txt"],
];
// Formats c2pa reads, by their first bytes (pages often serve images with a vague type).
const SIGNATURES = [
  [[0xff, 0xd8, 0xff], "image/jpeg"], [[0x89, 0x50, 0x4e, 0x47], "image/png"],
  [[0x47, 0x49, 0x46, 0x38], "image/gif"], [[0x49, 0x49, 0x2a, 0x00], "image/tiff"],
  [[0x4d, 0x4d, 0x00, 0x2a], "image/tiff"],
];
// The service's error codes for a file it read and could not make sense of (a manifest c2pa
// cannot read, a structure it cannot parse): the library's errors, worded as the browser's.
const UNREADABLE_CODES = new Set(["unreadable_manifest", "malformed_asset"]);
const PIXEL_TYPES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff", "image/heic", "image/heif", "image/avif"]);

let active = 0;
let lastStart = 0;
const waiting = [];
let c2paReady = null;
let readerSettings = null;

async function settings() {
  return { ...DEFAULTS, ...(await chrome.storage.sync.get(Object.keys(DEFAULTS))) };
}

// -- the service ---------------------------------------------------------------------------

function pump() {
  if (active >= MAX_CONCURRENT || waiting.length === 0) return;
  const delay = Math.max(0, lastStart + MIN_INTERVAL_MS - Date.now());
  if (delay > 0) { setTimeout(pump, delay); return; }
  const job = waiting.shift();
  active += 1;
  lastStart = Date.now();
  job().finally(() => { active -= 1; pump(); });
  pump();
}

function queued(task) {
  return new Promise((resolve) => { waiting.push(() => task().then(resolve)); pump(); });
}

async function call(path, init) {
  const { backend } = await settings();
  try {
    const response = await fetch(backend.replace(/\/$/, "") + path, init);
    const body = await response.json();
    await chrome.storage.session.set({ backendState: "ok" });
    // The error's code travels with its message: the card tells a manifest the service could
    // not read from an image it could not check at all (not fetched, refused, busy).
    if (response.ok) return { verdict: body, where: "service" };
    const code = body.error ? body.error.code : null;
    const message = body.error ? body.error.message : `HTTP ${response.status}`;
    // A file the service read and could not make sense of: the same sentence as the browser's
    // own check gives, c2pa's reason apart (the card's details line).
    const worded = UNREADABLE_CODES.has(code) ? splitLibraryError(message) : null;
    return { error: worded ? worded.error : message, detail: worded ? worded.detail : null, problem: worded ? worded.problem : null, code, where: "service" };
  } catch (err) {
    await chrome.storage.session.set({ backendState: "unreachable" });
    return { unreachable: true, error: `The provenance service at ${backend} does not answer.`, where: "service" };
  }
}

// Whether the service may be asked about content from this tab.
async function serviceAllowed(sender) {
  const s = await settings();
  const privateTab = !!(sender && sender.tab && sender.tab.incognito);
  return s.useService && (!privateTab || s.useServiceInPrivate);
}

// -- the browser: c2pa in WebAssembly ------------------------------------------------------

function loadC2pa() {
  // wasm-bindgen's loader fetches the module from the extension itself (no remote code).
  c2paReady ||= initC2pa({ module_or_path: chrome.runtime.getURL("vendor/c2pa-wasm/c2pa_bg.wasm") });
  return c2paReady;
}

async function text(path) {
  return (await fetch(chrome.runtime.getURL(path))).text();
}

// c2pa's settings: every shipped list and the reader's own anchors, each named (trust_uri) so
// the validation results say which one vouched for a signer; the allowed certificate uses of
// the Python side (the interim list's store.cfg).
function c2paSettings() {
  // The promise is what is kept: a change of anchors drops it, and a build still under way
  // when they changed can then not put its older anchors back.
  readerSettings ||= buildC2paSettings();
  return readerSettings;
}

async function buildC2paSettings() {
  const anchors = await Promise.all(TRUST_LISTS.map(async ([uri, path, kind, allowed]) => ({
    trust_anchors: await text(path), trust_uri: uri, trust_kind: kind, ...(allowed ? { allowed_list: await text(allowed) } : {}),
  })));
  const { userAnchors } = await chrome.storage.local.get("userAnchors");
  if (userAnchors && userAnchors.includes("BEGIN CERTIFICATE")) {
    // The reader's own anchors vouch for claim signers and for time-stamping authorities.
    for (const kind of ["manifest", "tsa"]) anchors.push({ trust_anchors: userAnchors, trust_uri: "user", trust_kind: kind });
  }
  return JSON.stringify({
    trust: { anchors, trust_config: await text("trust/store.cfg") },
    verify: { verify_trust: true, remote_manifest_fetch: false },
  });
}

chrome.storage.onChanged.addListener((changes) => { if ("userAnchors" in changes) readerSettings = null; });

// The worker wakes for a page's first message (its content script asks for the settings before
// it reads any image): compile the WASM module and read the lists now, while the page works.
loadC2pa().then(c2paSettings).catch(() => { c2paReady = null; readerSettings = null; });

function sniff(bytes, declared) {
  for (const [magic, type] of SIGNATURES) if (magic.every((b, i) => bytes[i] === b)) return type;
  const ascii = (from, to) => String.fromCharCode(...bytes.subarray(from, to));
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(4, 8) === "ftyp") {
    const brand = ascii(8, 12);
    if (brand === "avif") return "image/avif";
    if (["heic", "heix", "mif1"].includes(brand)) return "image/heic";
    return "video/mp4";
  }
  return (declared || "").split(";")[0].trim().toLowerCase() || "application/octet-stream";
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// What the browser alone says: {verdict} when c2pa found a manifest (or a remote reference),
// {absent} when the content has none, {error} when it cannot be read.
async function readLocally(bytes, declaredType) {
  const started = performance.now();
  const mediaType = sniff(bytes, declaredType);
  const sha256 = await sha256Hex(bytes);
  await loadC2pa();
  let reader;
  try {
    reader = await WasmReader.fromBytes(mediaType, bytes, await c2paSettings());
  } catch (err) {
    const message = String(err);
    if (/JumbfNotFound|ProvenanceMissing|ManifestNotFound/.test(message)) return { absent: true, mediaType, sha256 };
    const remote = /RemoteManifestUrl\("([^"]+)"\)/.exec(message);
    if (remote) {
      const verdict = verdictOf({ report: null, sha256, mediaType, remoteUrl: remote[1] });
      // The card links to the report page, which said "no longer kept" for it.
      remember(verdict, null);
      return { verdict, where: "browser", ms: performance.now() - started };
    }
    if (/UnsupportedType/.test(message)) return { absent: true, mediaType, sha256, unsupported: true };
    // The library's words and hint for the same case (provenance/_internal/c2pa_adapter.py,
    // verify.py), as a sentence; c2pa's own reason, a code such as "C2pa(UnknownAlgorithm)",
    // only as the card's details line.
    const kind = unreadableKind(message, bytes, mediaType);
    return { error: unreadableSentence(kind), detail: message, problem: kind, where: "browser" };
  }
  try {
    const report = JSON.parse(reader.json());
    const verdict = verdictOf({ report, state: report.validation_state, sha256, mediaType, bytes });
    verdict.credentials.thumbnail = thumbnailOf(reader, report);
    remember(verdict, report);  // for the report page; the badge need not wait for it
    return { verdict, where: "browser", ms: performance.now() - started };
  } finally {
    reader.free();
  }
}

function thumbnailOf(reader, report) {
  const manifest = (report.manifests || {})[report.active_manifest] || {};
  const thumb = manifest.thumbnail;
  if (!thumb || !thumb.identifier) return null;
  try {
    const bytes = reader.resourceToBytes(thumb.identifier);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return `data:${thumb.format || "image/jpeg"};base64,${btoa(binary)}`;
  } catch { return null; }
}

// The last few local verdicts, for the extension's own report page (the service never saw them).
const REPORTS_KEPT = 50;
let remembering = Promise.resolve();
function remember(verdict, report) {
  // One read-modify-write at a time: checks run in parallel and would drop each other's reports.
  remembering = remembering.then(async () => {
    const { reports = [] } = await chrome.storage.session.get("reports");
    const kept = reports.filter((r) => r.sha256 !== verdict.sha256).slice(-(REPORTS_KEPT - 1));
    kept.push({ sha256: verdict.sha256, verdict, c2paReport: report });
    await chrome.storage.session.set({ reports: kept });
  }).catch(() => {});
  return remembering;
}

function fromBase64(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

// -- what each message asks ----------------------------------------------------------------

async function verifyBytes(bytes, type, sender) {
  const s = await settings();
  let local = null;
  if (s.checkLocally) {
    local = await readLocally(bytes, type);
    if (local.verdict || local.error) return local;
    // No embedded credentials: only the service can look for a watermark or a fingerprint.
    if (!PIXEL_TYPES.has(local.mediaType)) {
      return { verdict: verdictOf({ report: null, sha256: local.sha256, mediaType: local.mediaType }), where: "browser" };
    }
  }
  if (!(await serviceAllowed(sender))) {
    if (!local) return { skipped: "service-off", where: "nowhere" };
    return { verdict: verdictOf({ report: null, sha256: local.sha256, mediaType: local.mediaType }), where: "browser", serviceSkipped: true };
  }
  const answer = await queued(() => call("/v1/verify", { method: "POST", body: bytes,
                                                         headers: { "Content-Type": type || "application/octet-stream" } }));
  return answer;
}

// An image of a local page (file://), which the page's own script may not read. Only for a
// local page: a web page must not get the extension to read the reader's files. Works once the
// reader has allowed the extension access to file URLs.
async function verifyFile(url, sender) {
  const pageUrl = (sender && (sender.url || (sender.tab && sender.tab.url))) || "";
  if (!url.startsWith("file:") || !pageUrl.startsWith("file:")) return { error: "Only a local page's own images are read from disk.", where: "browser" };
  let response;
  try { response = await fetch(url); } catch { return { error: `${url} cannot be read.`, where: "browser" }; }
  return verifyBytes(new Uint8Array(await response.arrayBuffer()), "", sender);
}

async function verifyUrl(url, sender) {
  if (!(await serviceAllowed(sender))) return { skipped: "service-off", where: "nowhere" };
  return queued(() => call("/v1/verify-url", { method: "POST", body: JSON.stringify({ url }),
                                               headers: { "Content-Type": "application/json" } }));
}

// Text: c2pa's WASM build has no text/plain handler, but its Reader reads the manifest store a
// text's wrapper carries (as the Python side does); text_manifest.js checks the hard binding
// over the text itself. The service is asked only about text the browser cannot decide: no
// wrapper, or one that cannot be read (fingerprint recovery, language-model watermarks).
async function readManifestStore(bytes) {
  await loadC2pa();
  const reader = await WasmReader.fromBytes("application/c2pa", bytes, await c2paSettings());
  try {
    const report = JSON.parse(reader.json());
    return { report, crJson: JSON.parse(reader.crJson()), state: report.validation_state };
  } finally {
    reader.free();
  }
}

async function readTextLocally(textContent) {
  const started = performance.now();
  const found = await readTextManifest(textContent, readManifestStore);
  const verdict = textVerdictOf({ found, sha256: await sha256Hex(new TextEncoder().encode(textContent)) });
  if (found && found.report) remember(verdict, found.report);
  return { verdict, where: "browser", ms: performance.now() - started, decided: !!(found && found.report) };
}

async function verifyText(textContent, sender) {
  const s = await settings();
  let local = null;
  if (s.checkLocally) {
    local = await readTextLocally(textContent);
    if (local.decided) return { verdict: local.verdict, where: local.where, ms: local.ms };
  }
  if (!(await serviceAllowed(sender))) {
    if (!local) return { skipped: "service-off", where: "nowhere", error: "Checking text needs the provenance service or the in-browser check; both are off for this window." };
    return { verdict: local.verdict, where: "browser", serviceSkipped: true };
  }
  return queued(() => call("/v1/verify", { method: "POST", body: textContent,
                                           headers: { "Content-Type": "text/plain; charset=utf-8" } }));
}

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  if (message.kind === "verify-bytes") verifyBytes(fromBase64(message.data), message.type, sender).then(reply);
  else if (message.kind === "verify-file") verifyFile(message.url, sender).then(reply);
  else if (message.kind === "verify-url") verifyUrl(message.url, sender).then(reply);
  else if (message.kind === "verify-text") verifyText(message.text, sender).then(reply);
  else if (message.kind === "frame-counts") {
    // A frame's counts, to its tab's top frame (content.js adds them up for the popup).
    if (sender.tab && sender.frameId) chrome.tabs.sendMessage(sender.tab.id, { kind: "frame-counts", frameId: sender.frameId, counts: message.counts }, { frameId: 0 }).catch(() => {});
    return false;
  }
  else if (message.kind === "settings") settings().then(reply);
  else if (message.kind === "service-allowed") serviceAllowed(sender).then(reply);
  else if (message.kind === "open-report" && message.url.startsWith(chrome.runtime.getURL("report.html"))) {
    chrome.tabs.create({ url: message.url }).then(() => reply(true));
  }
  else return false;
  return true; // the answer comes later
});

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: "check-provenance", title: "Check provenance", contexts: ["selection"] });
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId !== "check-provenance" || !tab) return;
  // The content script reads the selection itself: the menu's selectionText drops the
  // invisible characters that carry a text's credentials.
  chrome.tabs.sendMessage(tab.id, { kind: "check-selection", fallback: info.selectionText }, { frameId: info.frameId || 0 });
});
