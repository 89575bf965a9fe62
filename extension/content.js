// Content script: finds images, asks the background (which checks embedded credentials in the
// browser and asks the service only for what needs it) about each, and draws a small mark on
// those with something to say: the L1 indicator of the C2PA UX guidance, opening an L2 card on
// hover or click. Marks live in one shadow root laid over the page, so the page's own layout and
// styles are never touched.
"use strict";

const MIN_SIDE = 64;          // icons and spacers are not worth a request
const MAX_BYTES = 50 * 1024 * 1024;  // larger images go to the service by URL (its own limit)
// unreadable: checked, but the manifest cannot be read; unreachable: not checked at all, as the
// service they needed did not answer; refused: not checked, as the service answered that it
// could not check them (it could not fetch the image, or refused it: the card says why).
const counts = { checked: 0, ai: 0, credentials: 0, invalid: 0, possible: 0, unreadable: 0, remote: 0, browser: 0, service: 0, skipped: 0, unreachable: 0, refused: 0 };
// The service's error codes that mean the image's manifest was read and could not be understood;
// any other error (a fetch that failed, a URL it may not fetch, too many pixels, a busy service)
// says nothing about the image's credentials.
// (A structure it cannot parse, malformed_asset, is the same for a reader: the file was read.)
const UNREADABLE_CODES = new Set(["unreadable_manifest", "malformed_asset"]);
let seen = new WeakSet();
const badges = [];            // [{img, node, panel, outline, region}]
const results = [];           // [{src, where, verdict | error}]: what each checked image got
let host = null, shadow = null, backendState = "unknown";
// Bumped by a re-check of the page: an answer to an earlier round is dropped.
let round = 0;
let changes = null;           // the observer of added nodes (the page's, and its shadow roots')

const optedOut = () => {
  const meta = document.querySelector('meta[name="CR-allow-UI-injection" i]');
  return !!meta && meta.content.trim().toLowerCase() === "false";
};

// Our own mark (a seal with a check), deliberately not the C2PA "cr" pin: see the README.
// Built node by node: no markup is parsed into the page.
function seal() {
  const NS = "http://www.w3.org/2000/svg";
  const make = (name, attrs) => {
    const el = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  };
  const svg = make("svg", { viewBox: "0 0 16 16", width: "14", height: "14", "aria-hidden": "true" });
  const line = { fill: "none", stroke: "currentColor", "stroke-linecap": "round", "stroke-linejoin": "round" };
  svg.append(make("circle", { cx: "8", cy: "8", r: "6.2", ...line, "stroke-width": "1.6" }),
             make("path", { d: "M5.3 8.3l1.8 1.8 3.6-3.8", ...line, "stroke-width": "1.7" }));
  return svg;
}

function overlay() {
  if (shadow) return shadow;
  host = document.createElement("provenance-overlay");
  host.style.cssText = "position:absolute;top:0;left:0;width:0;height:0;z-index:2147483647;";
  shadow = host.attachShadow({ mode: "open" });
  shadow.innerHTML = `<style>
    .badge { position:absolute; display:flex; align-items:center; gap:4px; font:600 12px/1 system-ui,sans-serif;
             padding:3px 8px 3px 4px; border-radius:12px; white-space:nowrap; color:#fff; cursor:pointer;
             box-shadow:0 1px 3px rgba(0,0,0,.45); pointer-events:auto; border:1.5px solid rgba(255,255,255,.85); }
    .badge svg { flex:none; }
    .badge.compact { padding:3px; gap:0; } .badge.compact span { display:none; }
    .ai { background:#6d28d9; } .cr { background:#1e293b; } .invalid { background:#b91c1c; }
    .possible { background:#b45309; } .remote { background:#334155; } .unreadable { background:#9f1239; } .unreachable, .refused { background:#475569; }
    .panel { position:absolute; width:min(320px, calc(100vw - 16px)); max-height:calc(100vh - 16px); box-sizing:border-box;
             background:#fff; color:#111; border:1px solid #cbd5e1;
             border-radius:10px; padding:0; font:13px/1.45 system-ui,sans-serif; overflow:auto;
             box-shadow:0 6px 20px rgba(0,0,0,.25); pointer-events:auto; }
    .panel header { display:flex; align-items:center; gap:6px; padding:8px 12px; background:#1e293b; color:#fff; font-weight:600; }
    .panel header .state { margin-left:auto; font-size:11px; padding:2px 6px; border-radius:8px; background:#334155; }
    .panel header .state.Trusted { background:#15803d; } .panel header .state.Invalid { background:#b91c1c; }
    .panel header .state.Unreadable { background:#9f1239; }
    .panel .body { padding:10px 12px; }
    .panel .top { display:flex; gap:10px; align-items:flex-start; margin:0 0 8px; }
    .panel .top img { width:64px; height:64px; object-fit:cover; border-radius:6px; border:1px solid #e2e8f0; flex:none; }
    .panel p { margin:0; } .panel dl { margin:0 0 8px; display:grid; grid-template-columns:max-content 1fr; gap:2px 10px; }
    .panel dt { color:#555; } .panel dd { margin:0; overflow-wrap:anywhere; } .panel a { color:#1d4ed8; }
    .panel .where { color:#555; font-size:12px; margin:0 0 6px; }
    .panel .detail { color:#64748b; font:11px/1.35 ui-monospace,monospace; overflow-wrap:anywhere; }
    .panel .body > .summary { margin:0 0 8px; }
    .region { position:absolute; border:2px dashed #b45309; box-shadow:0 0 0 1px rgba(255,255,255,.9); pointer-events:none; }
  </style>`;
  document.documentElement.append(host);
  return shadow;
}

// Where the credentials came from: the service's `source` field, or the older `recovered` flag.
const sourceOf = (c) => c.source || (c.recovered ? "watermark" : c.present ? "embedded" : null);

function kindOf(verdict) {
  const c = verdict.credentials;
  if (sourceOf(c) && c.state === "Invalid") return ["invalid", "Credentials invalid"];
  if (verdict.ai.generated) return ["ai", verdict.ai.scope === "part" ? "AI (part)" : "AI-generated"];
  if (sourceOf(c)) return ["cr", "Credentials"];
  // Credentials stored online that were not fetched: nothing is known yet, but the file says
  // it has them (it had no badge at all, as if it carried nothing).
  if (c.remote_url) return ["remote", "Credentials online"];
  if ((verdict.matches || []).length) return ["possible", "Possible match"];
  // A watermark that names nothing stored here (another service's, or never registered): the
  // card says "no stored credentials match it", so the badge does not offer a match.
  if (verdict.watermark && verdict.watermark.detected) return ["possible", "Watermark found"];
  return null;
}

function field(list, name, value) {
  if (value === null || value === undefined || value === "") return;
  const dt = document.createElement("dt"); dt.textContent = name;
  const dd = document.createElement("dd"); dd.textContent = value;
  list.append(dt, dd);
}

// Short forms of the sentences' words (provenance/verdict.py TRUST_LIST_WORDS); a user anchor is
// the reader's own (popup) when checked here, the operator's when the service checked it.
const TRUST_LIST_WORDS = {
  c2pa: "the official C2PA trust list",
  interim: "the legacy interim list (frozen)",
};
const USER_ANCHOR_WORDS = {
  browser: "a trust anchor you configured",
  service: "a trust anchor configured on the provenance service",
};
const SOURCE_WORDS = {
  embedded: "embedded in the file",
  watermark: "recovered through the invisible watermark",
  fingerprint: "recovered by resemblance (fingerprint)",
};

// The card's trust line. The verdict names a trust list only for Trusted credentials; a signer
// that chains to one (no signingCredential.untrusted among the failures: the summary's own
// test) whose credentials are not Trusted read "none (signer not on a trust list)", beside a
// sentence calling it "a trusted signer", or on a trusted signer's copy cut short.
const UNTRUSTED = "signingCredential.untrusted";
const SIGNATURE_FAILURE = /^(claimSignature|signingCredential)\.(?!untrusted$|ocsp\.skipped$)/;
function trustWords(c, where) {
  if (!c.state) return null;
  if (c.state === "Trusted") {
    const listed = c.trust_list === "user" ? USER_ANCHOR_WORDS[where === "browser" ? "browser" : "service"] : TRUST_LIST_WORDS[c.trust_list];
    return listed || "a trusted list";
  }
  const failures = c.failures || [];
  if (failures.includes(UNTRUSTED) || (c.state === "Valid" && !failures.length && !(c.ingredient_failures || []).length)) {
    return "none (signer not on a trust list)";
  }
  if (c.state === "Valid") return "the signer is on one; not all of the credentials are trusted (see above)";
  // Invalid: a signature that fails says nothing of who signed (a certificate is public).
  return failures.some((f) => SIGNATURE_FAILURE.test(f)) ? "not judged: the signature itself fails"
    : "the signer is on one, but these credentials are invalid";
}

function aiWords(verdict) {
  const ai = verdict.ai;
  if (ai.generated === false) return "not declared";
  if (ai.generated !== true) return ai.scope === "part" ? "a synthetic part (compositeSynthetic); generative AI not said" : "unknown";
  const scope = ai.scope === "part" ? "in part" : "whole";
  const words = (ai.evidence || []).includes("c2pa") || !ai.description ? scope : `${scope}, said in words only: "${ai.description}"`;
  // An Invalid manifest's AI origin is only what it claims.
  return ai.claimed || verdict.credentials.state === "Invalid" ? `claimed (${words}); the credentials are invalid` : words;
}

// A card's frame: the header (with the credentials' state, if any) and an empty body.
function card(stateWord) {
  const panel = document.createElement("div");
  panel.className = "panel";
  const header = document.createElement("header");
  header.append(seal(), document.createTextNode("Content Credentials"));
  if (stateWord) {
    const state = document.createElement("span");
    state.className = `state ${stateWord}`; state.textContent = stateWord;
    header.append(state);
  }
  const body = document.createElement("div"); body.className = "body";
  panel.append(header, body);
  return { panel, body };
}

const whereWords = (where) => where === "browser" ? "Checked in this browser." : "Checked by the provenance service.";

// A card's paragraph: its summary, or the line on where the check ran (or why it did not).
function paragraph(className, text) {
  const p = document.createElement("p"); p.className = className; p.textContent = text;
  return p;
}

// The watermark's region ([x, y, width, height] in the file's pixels) when it was found in a
// picture inside a larger canvas (a screenshot, a border), else null.
const regionOf = (verdict) => (verdict.watermark && verdict.watermark.detected && verdict.watermark.region) || null;

function panelFor(verdict, reportUrl, where) {
  const c = verdict.credentials;
  const { panel, body } = card(c.state);
  const top = document.createElement("div"); top.className = "top";
  if (c.thumbnail) {
    const img = document.createElement("img"); img.src = c.thumbnail; img.alt = "the signed image";
    top.append(img);
  }
  top.append(paragraph("summary", verdict.summary));
  const dl = document.createElement("dl");
  field(dl, "Signed by", c.signer && (c.signer.issuer || c.signer.common_name));
  field(dl, "Trust list", trustWords(c, where));
  field(dl, "AI origin", aiWords(verdict));
  field(dl, "AI tool", verdict.ai.generated ? c.generator : null);
  field(dl, "App", verdict.ai.generated ? null : c.generator);
  // signature_info.time comes from the signature's time-stamp; an action's "when" is only what
  // the signer declared.
  field(dl, "Time-stamped", c.signed_at);
  field(dl, "Created (declared)", c.signed_at ? null : c.created_at);
  // How far a recovered copy agrees with the registered image (an edit confined to the blocks
  // the test tolerates recovers too), as the reader's page and the CLI give it.
  const alike = sourceOf(c) !== "embedded" && typeof c.similarity === "number" ? ` (${Math.round(c.similarity * 100)}% alike)` : "";
  field(dl, "Credentials", SOURCE_WORDS[sourceOf(c)] && SOURCE_WORDS[sourceOf(c)] + alike);
  field(dl, "Stored online at", sourceOf(c) ? null : c.remote_url);
  // A mirrored or turned copy, in the service's words (verdict.py Orientation): beside the
  // signed thumbnail it looks like another picture unless the card says why.
  field(dl, "This copy", verdict.watermark && verdict.watermark.detected ? verdict.watermark.mirrored_or_turned : null);
  // A possible match: whose registered credentials, and where in this image the watermark was
  // found (the summary gives the region in the file's pixels, which a reader cannot place on a
  // scaled image: the card outlines it instead). Nothing of the match is applied.
  const match = sourceOf(c) ? null : (verdict.matches || [])[0];
  if (match) {
    const who = match.signer ? `credentials registered by ${match.signer}` : "registered credentials";
    field(dl, "Possible match", `${who} (${Math.round(match.similarity * 100)}% alike); not applied to this image`);
  }
  if (!sourceOf(c) && regionOf(verdict)) field(dl, "Watermark in", "the outlined picture only, not the whole image");
  const a = document.createElement("a");
  a.href = reportUrl; a.target = "_blank"; a.textContent = "Full report";
  // A web page may not open the extension's own pages; the background opens it instead.
  if (where === "browser") a.addEventListener("click", (e) => { e.preventDefault(); chrome.runtime.sendMessage({ kind: "open-report", url: reportUrl }); });
  body.append(top, dl, paragraph("where", whereWords(where)), a);
  return panel;
}

// The card of an image without a verdict: its manifest cannot be read (the message is the
// checker's own, as the CLI prints it), or the service it needed did not answer.
function problemPanel(problem, message, where, detail) {
  const { panel, body } = card(problem === "unreadable" ? "Unreadable" : null);
  const whereText = problem === "unreadable" ? `${whereWords(where)} Its credentials say nothing either way about how it was made.`
    : problem === "refused" ? "Not checked: the provenance service could not check this image, for the reason above; nothing is known about its credentials."
    : "Not checked: this image needed the service (it has no embedded credentials this browser could read; the service looks for a watermark or fingerprint). Start the service or choose another in the popup, then press “Check this page now” there.";
  body.append(paragraph("summary", message), paragraph("where", whereText));
  // The checker's own reason (c2pa's error), for whoever reports the problem: apart and small.
  if (detail) body.append(paragraph("detail", `Details: ${detail}`));
  return panel;
}

const PROBLEM_LABELS = { unreadable: "Credentials unreadable", unreachable: "Not checked: service unreachable", refused: "Not checked" };

const GAP = 8;
const COMPACT_BELOW = { width: 150, height: 60 };  // CSS pixels of the shown image  // between a card and the outline it keeps clear of, and the viewport's edge

// Where a card goes: under the badge, over the image; but when the card shows an outline (the
// picture the watermark was found in) it must not cover it, or the reader is told to look at an
// outline the card hides. Then the first place beside the outline (right, left, below, above)
// that fits the window; where none does (a picture as wide as the window), the place in the
// window that covers least of the outline: a card out of sight is worse than one on its edge.
// Page coordinates.
function cardPlace(x, y, panel, box) {
  const w = panel.offsetWidth, h = panel.offsetHeight;
  const view = { left: window.scrollX, top: window.scrollY, right: window.scrollX + window.innerWidth, bottom: window.scrollY + window.innerHeight };
  const under = { left: x + 6, top: y + 32 };
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(v, hi));
  if (!box) {
    // Under the badge; above it where the window has no room below (an image low in the
    // window: the card ran off its bottom edge); in the window either way, across too.
    const above = y + 2 - h;
    const top = under.top + h <= view.bottom - GAP || above < view.top + GAP
      ? clamp(under.top, view.top + GAP, Math.max(view.top + GAP, view.bottom - h - GAP)) : above;
    return { left: clamp(under.left, view.left + GAP, Math.max(view.left + GAP, view.right - w - GAP)), top };
  }
  const across = clamp(box.top, view.top + GAP, view.bottom - h - GAP);
  const along = clamp(box.left, view.left + GAP, view.right - w - GAP);
  const beside = [
    { left: box.right + GAP, top: across },
    { left: box.left - GAP - w, top: across },
    { left: along, top: box.bottom + GAP },
    { left: along, top: box.top - GAP - h },
  ];
  // The same places pushed back inside the window, and the window's corners.
  const inside = [...beside, under].map((p) => ({ left: clamp(p.left, view.left + GAP, view.right - w - GAP), top: clamp(p.top, view.top + GAP, view.bottom - h - GAP) }));
  const corners = [view.left + GAP, view.right - w - GAP].flatMap((left) => [view.top + GAP, view.bottom - h - GAP].map((top) => ({ left, top })));
  const covered = (p) => Math.max(0, Math.min(p.left + w, box.right) - Math.max(p.left, box.left))
    * Math.max(0, Math.min(p.top + h, box.bottom) - Math.max(p.top, box.top));
  const fits = (p) => p.left >= view.left && p.left + w <= view.right && p.top >= view.top && p.top + h <= view.bottom;
  const clear = [under, ...beside].find((p) => covered(p) === 0 && fits(p));
  if (clear) return clear;
  const shown = [...inside, ...corners].filter(fits);
  return shown.length ? shown.reduce((a, b) => (covered(b) < covered(a) ? b : a)) : under;
}

function place() {
  for (const { img, node, panel, outline, region } of badges) {
    const r = img.getBoundingClientRect();
    const x = r.left + window.scrollX, y = r.top + window.scrollY;
    const hidden = r.width === 0 || !img.isConnected;
    node.style.display = hidden ? "none" : "";
    // On an image shown small (a thumbnail, an avatar) the label would cover all of it and more:
    // the seal alone, its label in the tooltip and the card.
    node.classList.toggle("compact", r.width < COMPACT_BELOW.width || r.height < COMPACT_BELOW.height);
    node.style.left = `${x + 6}px`; node.style.top = `${y + 6}px`;
    let box = null;
    if (outline && region && img.naturalWidth && img.naturalHeight) {
      // The region is in the file's pixels; the image is shown at its box's size.
      const sx = r.width / img.naturalWidth, sy = r.height / img.naturalHeight;
      box = { left: x + region[0] * sx, top: y + region[1] * sy, width: region[2] * sx, height: region[3] * sy };
      box.right = box.left + box.width; box.bottom = box.top + box.height;
      outline.style.left = `${box.left}px`; outline.style.top = `${box.top}px`;
      outline.style.width = `${box.width}px`; outline.style.height = `${box.height}px`;
    }
    if (panel) {
      const at = cardPlace(x, y, panel, box);
      panel.style.left = `${at.left}px`; panel.style.top = `${at.top}px`;
    }
  }
}

async function showBadge(img, verdict, where, ms, asked) {
  const kind = kindOf(verdict);
  if (!kind) return;
  const { backend } = await chrome.runtime.sendMessage({ kind: "settings" });
  if (asked !== round) return;
  const reportUrl = where === "browser"
    ? chrome.runtime.getURL(`report.html?sha256=${verdict.sha256}`)
    : `${backend.replace(/\/$/, "")}/report/${verdict.sha256}`;
  drawBadge(img, kind, where, ms, () => panelFor(verdict, reportUrl, where), regionOf(verdict));
}

// ``region``: a part of the image to outline while the card is open (see regionOf).
function drawBadge(img, kind, where, ms, makePanel, region = null) {
  const root = overlay();
  const node = document.createElement("div");
  node.className = `badge ${kind[0]}`;
  node.append(seal());
  const label = document.createElement("span"); label.textContent = kind[1];
  node.append(label);
  node.title = `${kind[1]}: hover or click for the Content Credentials summary`;
  node.dataset.kind = kind[0];
  node.dataset.where = where;
  if (ms !== undefined) node.dataset.ms = String(Math.round(ms));
  node.dataset.src = img.currentSrc || img.src;
  const entry = { img, node, panel: null, outline: null, region };
  let openedAt = 0;
  const open = () => {
    if (entry.panel) return;
    openedAt = Date.now();
    entry.panel = makePanel();
    entry.panel.addEventListener("mouseleave", close);
    if (region) {
      entry.outline = document.createElement("div"); entry.outline.className = "region";
      root.append(entry.outline);
    }
    root.append(entry.panel); place();
  };
  const close = () => {
    if (entry.panel) { entry.panel.remove(); entry.panel = null; }
    if (entry.outline) { entry.outline.remove(); entry.outline = null; }
  };
  node.addEventListener("mouseenter", open);
  // Hovering opens; a click opens too (touch screens), or closes a panel opened a while ago
  // (not the one the hover that came with this click just opened).
  node.addEventListener("click", (e) => {
    e.preventDefault();
    if (entry.panel && Date.now() - openedAt > 400) close(); else open();
  });
  root.append(node);
  badges.push(entry);
  place();
}

function countChecked(where) {
  counts.checked += 1;
  counts[where] = (counts[where] || 0) + 1;
}

function count(verdict, where) {
  countChecked(where);
  const kind = kindOf(verdict);
  if (kind) counts[{ ai: "ai", cr: "credentials", invalid: "invalid", possible: "possible", remote: "remote" }[kind[0]]] += 1;
}

async function bytesOf(src) {
  // Same-origin (or CORS-enabled) images can be read here; others go to the backend by URL.
  const response = await fetch(src, { credentials: "omit" });
  if (!response.ok) throw new Error(String(response.status));
  // Base64 through FileReader: Firefox's content scripts may not touch the page's typed arrays
  // (String.fromCharCode over them throws "Permission denied"), and it is quicker anyway.
  const blob = await response.blob();
  if (blob.size > MAX_BYTES) throw new Error(`${blob.size} bytes: too large to read here`);
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  return { data: url.slice(url.indexOf(",") + 1), type: response.headers.get("Content-Type") || "" };
}

async function check(img) {
  if (seen.has(img)) return;
  const src = img.currentSrc || img.src;
  if (!src || img.naturalWidth < MIN_SIDE || img.naturalHeight < MIN_SIDE) return;
  seen.add(img);
  const asked = round;
  const started = performance.now();
  let answer;
  try {
    if (src.startsWith("file:")) throw new Error("a local file: the background reads it");
    const { data, type } = await bytesOf(src);
    answer = await chrome.runtime.sendMessage({ kind: "verify-bytes", data, type });
  } catch {
    answer = src.startsWith("http") ? await chrome.runtime.sendMessage({ kind: "verify-url", url: src })
      : src.startsWith("file:") ? await chrome.runtime.sendMessage({ kind: "verify-file", url: src }) : null;
  }
  if (!answer || asked !== round) return;
  try { await record(img, src, answer, started, asked); } finally { shareCounts(); }
}

// What an answer changes: the results, the counts, the badge.
async function record(img, src, answer, started, asked) {
  results.push({ src, where: answer.where, verdict: answer.verdict || null, error: answer.error || null });
  if (answer.skipped) { counts.skipped += 1; return; }
  if (answer.where === "service") backendState = answer.unreachable ? "unreachable" : "ok";
  if (!answer.verdict) {
    if (!answer.error) return;
    // An error from the browser's own check is always c2pa's reading of the manifest; from the
    // service, only its unreadable-manifest code is (it was "Credentials unreadable" for an
    // image the service could not even fetch).
    const problem = answer.unreachable ? "unreachable"
      : answer.where !== "service" || UNREADABLE_CODES.has(answer.code) ? "unreadable" : "refused";
    if (problem === "unreadable") countChecked(answer.where);
    counts[problem] += 1;
    // A copy cut short is named so on the badge: the remedy (a complete copy) is the reader's.
    const label = problem === "unreadable" && answer.problem === "cut-short" ? "Incomplete file" : PROBLEM_LABELS[problem];
    drawBadge(img, [problem, label], answer.where, performance.now() - started,
              () => problemPanel(problem, answer.error, answer.where, answer.detail));
    return;
  }
  count(answer.verdict, answer.where);
  if (answer.serviceSkipped) counts.skipped += 1;  // no watermark or fingerprint look-up
  await showBadge(img, answer.verdict, answer.where, performance.now() - started, asked);
}

// -- frames ----------------------------------------------------------------------------------
// The script runs in every frame (an embedded post, an article in an iframe); each frame draws
// its own badges. The popup asks the tab and hears the first answer only: the top frame's, which
// adds up what each frame below tells it (through the background, which knows the frame's id:
// a page's own script cannot speak for a frame that way).
const TOP = window === window.top;
const frameCounts = new Map();  // frame id -> that frame's counts (in the top frame)
function shareCounts() {
  if (!TOP) chrome.runtime.sendMessage({ kind: "frame-counts", counts }).catch(() => {});
}

function pageCounts() {
  const total = { ...counts };
  for (const more of frameCounts.values()) for (const key of Object.keys(counts)) total[key] += more[key] || 0;
  return total;
}

// "Check this page now" (the popup): every image again, from nothing (the service may be back,
// or the trust settings changed), so the badges and counts are this round's alone.
function recheck() {
  round += 1;
  seen = new WeakSet();
  for (const { node, panel, outline } of badges.splice(0)) { node.remove(); if (panel) panel.remove(); if (outline) outline.remove(); }
  for (const key of Object.keys(counts)) counts[key] = 0;
  results.length = 0;
  backendState = "unknown";
  shareCounts();
  scan();
}

const visible = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (!e.isIntersecting) continue;
    visible.unobserve(e.target);
    if (e.target.nodeName === "IMG") watch(e.target); else watchBackground(e.target);
  }
}, { rootMargin: "200px" });

// CSS background images: a hero picture or a card's cover is often an element's background,
// not an <img>, and got no badge. Each such element is checked through a stand-in with what
// check(), the badge and place() read of an image (its source, natural size, box), loaded
// from the same URL (the browser's cache has it).
const BACKGROUND_URL = /url\(\s*(['"]?)(.*?)\1\s*\)/;
const backgrounds = new WeakMap();  // element -> { src, standIn }
function backgroundOf(el) {
  const found = BACKGROUND_URL.exec(getComputedStyle(el).backgroundImage || "");
  if (!found || !found[2]) return null;
  try { return new URL(found[2], document.baseURI).href; } catch { return null; }
}

function watchBackground(el) {
  const entry = backgrounds.get(el);
  // Shown at least MIN_SIDE a side: a small box is an icon, or a sprite sheet's one cell.
  const box = el.getBoundingClientRect();
  if (!entry || box.width < MIN_SIDE || box.height < MIN_SIDE) return;
  if (entry.standIn) { check(entry.standIn); return; }
  const probe = new Image();
  probe.addEventListener("load", () => {
    entry.standIn = {
      src: entry.src, currentSrc: entry.src, naturalWidth: probe.naturalWidth, naturalHeight: probe.naturalHeight,
      getBoundingClientRect: () => el.getBoundingClientRect(),
      get isConnected() { return el.isConnected; },
    };
    check(entry.standIn);
  }, { once: true });
  probe.src = entry.src;
}

function watch(img) {
  if (img.complete && img.naturalWidth) check(img);
  else img.addEventListener("load", () => check(img), { once: true });
}

// Images in the page and in the open shadow roots of its components (a web component's images
// are not in the document's own tree: querySelectorAll and the page's observer never saw them).
const shadowRoots = new WeakSet();
function scan(root = document) {
  // Never our own overlay (its shadow root is open, and a card holds a thumbnail).
  if (!root.querySelectorAll || (host && (root === host || root === shadow))) return;
  for (const img of root.querySelectorAll("img")) visible.observe(img);
  const elements = root.nodeType === Node.ELEMENT_NODE ? [root, ...root.querySelectorAll("*")] : root.querySelectorAll("*");
  for (const el of elements) {
    if (el === host) continue;
    if (el.nodeName !== "IMG" && !backgrounds.has(el)) {
      const src = backgroundOf(el);
      if (src) backgrounds.set(el, { src, standIn: null });
    }
    if (backgrounds.has(el)) visible.observe(el);
    if (el.shadowRoot && el !== host && !shadowRoots.has(el.shadowRoot)) {
      shadowRoots.add(el.shadowRoot);
      if (changes) changes.observe(el.shadowRoot, { childList: true, subtree: true });
      scan(el.shadowRoot);
    }
  }
}

// The answer about a selection, beside it: under it, or above it where the window has no room
// below, in the window either way. It sat in the window's top left corner, over the selected
// text itself when that was the page's first paragraph. ``around``: the selection's box (window
// coordinates), or null (the top left corner, as before).
// The card has the image card's frame (header, the credentials' state, where the check ran): it
// was bare text, with no state beside a sentence that may run to four lines. It stays while the
// pointer is on it (15 s was too short to read it and follow its link-less details).
const SELECTION_SHOWN_MS = 15000;
function toast(text, around = null, state = null, where = null) {
  const root = overlay();
  const { panel, body } = card(state);
  panel.id = "provenance-selection";
  panel.style.cssText = `left:${window.scrollX + 16}px; top:${window.scrollY + 16}px; position:absolute;`;
  body.append(paragraph("summary", text));
  if (where) body.append(paragraph("where", whereWords(where)));
  root.querySelector("#provenance-selection")?.remove();
  root.append(panel);
  if (around) {
    const w = panel.offsetWidth, h = panel.offsetHeight;
    const left = Math.max(GAP, Math.min(around.left, window.innerWidth - w - GAP));
    const below = around.bottom + GAP, above = around.top - GAP - h;
    // Below if it fits; else above if that fits; else wherever keeps more of it in the window.
    const top = below + h <= window.innerHeight || (above < 0 && window.innerHeight - below >= around.top) ? below : above;
    panel.style.left = `${window.scrollX + left}px`; panel.style.top = `${window.scrollY + Math.max(top, GAP - h)}px`;
  }
  let timer = setTimeout(() => panel.remove(), SELECTION_SHOWN_MS);
  panel.addEventListener("mouseenter", () => clearTimeout(timer));
  panel.addEventListener("mouseleave", () => { timer = setTimeout(() => panel.remove(), SELECTION_SHOWN_MS); });
}

// --- Selected text, read as the signer wrote it ------------------------------------------
// A text's credentials bind its exact characters, line breaks included. The selection's
// rendered string (Selection.toString()) has the browser's whitespace, not the author's: a
// <p> collapses the source's newlines into spaces. So the text is read from the DOM, and a few
// whitespace-faithful candidates are tried in turn; the hard-binding check (in the background,
// text_manifest.js) decides.

const BLOCKS = /^(ADDRESS|ARTICLE|ASIDE|BLOCKQUOTE|DD|DIV|DL|DT|FIGCAPTION|FIGURE|FOOTER|H[1-6]|HEADER|HR|LI|MAIN|NAV|OL|P|PRE|SECTION|TABLE|TR|UL)$/;
const UNSEEN = /^(SCRIPT|STYLE|NOSCRIPT|TEMPLATE)$/;
const HASH_MISMATCH = "assertion.dataHash.mismatch";

// The DOM text inside a range: text nodes as written, <br> as a line break, and `gap` where a
// block element starts. With `brFormatting`, a newline (and indentation) in the source right
// after a <br> is taken as the page's formatting, not the author's.
function sourceText(range, gap, brFormatting = false) {
  const root = range.commonAncestorContainer;
  if (root.nodeType === Node.TEXT_NODE) return root.data.slice(range.startOffset, range.endOffset);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  let out = "", afterBreak = false;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!range.intersectsNode(node)) continue;
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.parentElement && UNSEEN.test(node.parentElement.nodeName)) continue;
      const from = node === range.startContainer ? range.startOffset : 0;
      const to = node === range.endContainer ? range.endOffset : node.data.length;
      let text = node.data.slice(from, to);
      if (brFormatting && afterBreak) text = text.replace(/^\r?\n[ \t]*/, "");
      out += text;
      afterBreak = false;
    } else if (node.nodeName === "BR") { out += "\n"; afterBreak = true; }
    else if (BLOCKS.test(node.nodeName) && out && !out.endsWith("\n")) out += gap;
  }
  return out;
}

// Only ASCII whitespace: String.trim() would also eat a U+FEFF that opens a wrapper.
const trimmed = (s) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
const collapsed = (s) => trimmed(s.replace(/[ \t\r\n]+/g, " "));

// Texts to verify, most faithful to the source first: the DOM text, without the page's
// indentation, without the page's line breaks after <br>, with paragraphs as blank lines, then
// the rendered string.
function selectionCandidates(fallback) {
  const selection = window.getSelection();
  const rendered = selection ? selection.toString() : "";
  const list = [];
  if (selection && selection.rangeCount) {
    const range = selection.getRangeAt(0);
    const source = sourceText(range, "\n");
    list.push(source, trimmed(source));
    list.push(trimmed(source.replace(/\r\n?/g, "\n").replace(/\n[ \t]+/g, "\n")));
    list.push(trimmed(sourceText(range, "\n", true)));
    list.push(trimmed(sourceText(range, "\n\n")));
  }
  list.push(rendered, fallback || "");
  return { rendered: rendered || fallback || "", candidates: [...new Set(list)].filter((s) => s.trim()) };
}

const mismatched = (answer) => (answer.verdict.credentials.failures || []).includes(HASH_MISMATCH);

// The selection's box in the window, taken before the checks (the reader may select something
// else meanwhile), or null without one (a selection inside a text field has no range here).
function selectionBox() {
  const selection = window.getSelection();
  if (!selection || !selection.rangeCount) return null;
  const r = selection.getRangeAt(0).getBoundingClientRect();
  return r.width || r.height ? { left: r.left, top: r.top, right: r.right, bottom: r.bottom } : null;
}

async function checkSelection(fallback) {
  const { rendered, candidates } = selectionCandidates(fallback);
  if (!candidates.length) return;
  const around = selectionBox();
  // The first candidate whose hard binding holds; failing that, the DOM text's verdict.
  let first = null, found = null;
  for (const text of candidates) {
    const answer = await chrome.runtime.sendMessage({ kind: "verify-text", text });
    if (!answer || !answer.verdict) { found = found || { text, answer }; break; }
    first = first || { text, answer };
    if (!mismatched(answer)) { found = { text, answer }; break; }
  }
  const { text, answer } = found || first;
  let message = answer && answer.verdict ? answer.verdict.summary : (answer && answer.error) || "";
  if (answer && answer.verdict && answer.verdict.credentials.present && !mismatched(answer)
      && text !== rendered && collapsed(text) === collapsed(rendered)) {
    message += " The text as shown differs from the signed text only in whitespace/line breaks.";
  }
  const verdict = answer && answer.verdict;
  toast(message, around, verdict ? verdict.credentials.state : null, verdict ? answer.where : null);
  return answer;
}

chrome.runtime.onMessage.addListener((message, _sender, reply) => {
  if (message.kind === "frame-counts") { if (TOP) frameCounts.set(message.frameId, message.counts); return false; }
  // Frames below the top stay silent: the first answer is the one the popup hears.
  if (message.kind === "counts") { if (TOP) reply({ ...pageCounts(), optedOut: optedOut(), backendState }); return false; }
  if (message.kind === "results") { if (TOP) reply(results); return false; }
  if (message.kind === "scan") { if (!optedOut()) recheck(); reply({ ok: true }); return false; }
  if (message.kind === "check-selection") {
    // (Sent to one frame by the menu; to every frame by a caller that does not know which.)
    if (!TOP && !String(window.getSelection() || "").trim()) return false;
    if (optedOut()) { reply(null); return false; }
    checkSelection(message.fallback).then(reply);
    return true;
  }
  return false;
});

(async () => {
  if (optedOut()) return;
  const { autoScan } = await chrome.runtime.sendMessage({ kind: "settings" });
  if (!autoScan) return;
  changes = new MutationObserver((mutations) => {
    for (const m of mutations) for (const n of m.addedNodes) {
      if (n.nodeName === "IMG") visible.observe(n); else if (n.querySelectorAll) scan(n);
    }
  });
  changes.observe(document.documentElement, { childList: true, subtree: true });
  scan();
  let queued = false;
  const reposition = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; place(); }); } };
  window.addEventListener("scroll", reposition, { passive: true });
  window.addEventListener("resize", reposition);
})();
