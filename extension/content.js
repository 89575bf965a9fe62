// Content script: finds images, asks the backend (through the service worker) about each, and
// draws a small badge on those with something to say; a summary on hover or click (C2PA UX
// levels 1 and 2). Badges live in one shadow root laid over the page, so the page's own layout
// and styles are never touched.
"use strict";

const MIN_SIDE = 64;          // icons and spacers are not worth a request
const counts = { checked: 0, ai: 0, credentials: 0, invalid: 0, possible: 0 };
const seen = new WeakSet();
const badges = [];            // [{img, node}]
let host = null, shadow = null, backendState = "unknown";

const optedOut = () => {
  const meta = document.querySelector('meta[name="CR-allow-UI-injection" i]');
  return !!meta && meta.content.trim().toLowerCase() === "false";
};

function overlay() {
  if (shadow) return shadow;
  host = document.createElement("provenance-overlay");
  host.style.cssText = "position:absolute;top:0;left:0;width:0;height:0;z-index:2147483647;";
  shadow = host.attachShadow({ mode: "open" });
  shadow.innerHTML = `<style>
    .badge { position:absolute; font:600 12px/1 system-ui,sans-serif; padding:4px 7px; border-radius:10px; white-space:nowrap;
             color:#fff; cursor:pointer; box-shadow:0 1px 3px rgba(0,0,0,.4); pointer-events:auto; }
    .ai { background:#6d28d9; } .cr { background:#15803d; } .invalid { background:#b91c1c; }
    .possible { background:#b45309; }
    .panel { position:absolute; width:300px; background:#fff; color:#111; border:1px solid #999;
             border-radius:8px; padding:10px 12px; font:13px/1.45 system-ui,sans-serif;
             box-shadow:0 4px 16px rgba(0,0,0,.25); pointer-events:auto; }
    .panel p { margin:0 0 6px; } .panel dl { margin:0; display:grid; grid-template-columns:max-content 1fr; gap:2px 8px; }
    .panel dt { color:#555; } .panel dd { margin:0; overflow-wrap:anywhere; } .panel a { color:#1d4ed8; }
  </style>`;
  document.documentElement.append(host);
  return shadow;
}

function kindOf(verdict) {
  const c = verdict.credentials;
  if (c.present && c.state === "Invalid") return ["invalid", "Credentials invalid"];
  if (verdict.ai.generated) return ["ai", verdict.ai.scope === "part" ? "AI (part)" : "AI-generated"];
  if (c.present) return ["cr", "Credentials"];
  if ((verdict.matches || []).length || (verdict.watermark && verdict.watermark.detected)) return ["possible", "Possible match"];
  return null;
}

function field(list, name, value) {
  if (value === null || value === undefined || value === "") return;
  const dt = document.createElement("dt"); dt.textContent = name;
  const dd = document.createElement("dd"); dd.textContent = value;
  list.append(dt, dd);
}

function panelFor(verdict, backend) {
  const c = verdict.credentials, ai = verdict.ai;
  const panel = document.createElement("div");
  panel.className = "panel";
  const p = document.createElement("p"); p.className = "summary"; p.textContent = verdict.summary;
  const dl = document.createElement("dl");
  field(dl, "AI origin", ai.generated === null ? "unknown" : ai.generated ? (ai.scope === "part" ? "in part" : "whole") : "not declared");
  field(dl, "Generator", c.generator);
  field(dl, "Signer", c.signer && (c.signer.issuer || c.signer.common_name));
  field(dl, "Trust", c.state ? (c.state === "Trusted" ? "trusted signer" : c.state === "Valid" ? "signer not on the trust list" : "invalid") : null);
  field(dl, "Date", c.signed_at || c.created_at);
  field(dl, "Recovered", c.recovered ? "yes, through the invisible watermark" : null);
  const a = document.createElement("a");
  a.href = `${backend.replace(/\/$/, "")}/report/${verdict.sha256}`; a.target = "_blank"; a.textContent = "Full report";
  panel.append(p, dl, a);
  return panel;
}

function place() {
  for (const { img, node, panel } of badges) {
    const r = img.getBoundingClientRect();
    const x = r.left + window.scrollX, y = r.top + window.scrollY;
    const hidden = r.width === 0 || !img.isConnected;
    node.style.display = hidden ? "none" : "";
    node.style.left = `${x + 6}px`; node.style.top = `${y + 6}px`;
    if (panel) { panel.style.left = `${x + 6}px`; panel.style.top = `${y + 30}px`; }
  }
}

async function showBadge(img, verdict) {
  const kind = kindOf(verdict);
  if (!kind) return;
  const { backend } = await chrome.runtime.sendMessage({ kind: "settings" });
  const root = overlay();
  const node = document.createElement("div");
  node.className = `badge ${kind[0]}`; node.textContent = kind[1];
  node.dataset.kind = kind[0];
  node.dataset.src = img.currentSrc || img.src;
  const entry = { img, node, panel: null };
  let openedAt = 0;
  const open = () => {
    if (entry.panel) return;
    openedAt = Date.now();
    entry.panel = panelFor(verdict, backend);
    entry.panel.addEventListener("mouseleave", close);
    root.append(entry.panel); place();
  };
  const close = () => { if (entry.panel) { entry.panel.remove(); entry.panel = null; } };
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

function count(verdict) {
  counts.checked += 1;
  const kind = kindOf(verdict);
  if (kind) counts[{ ai: "ai", cr: "credentials", invalid: "invalid", possible: "possible" }[kind[0]]] += 1;
}

async function bytesOf(src) {
  // Same-origin (or CORS-enabled) images can be read here; others go to the backend by URL.
  const response = await fetch(src, { credentials: "omit" });
  if (!response.ok) throw new Error(String(response.status));
  const buffer = new Uint8Array(await response.arrayBuffer());
  let binary = "";
  for (let i = 0; i < buffer.length; i += 0x8000) binary += String.fromCharCode(...buffer.subarray(i, i + 0x8000));
  return { data: btoa(binary), type: response.headers.get("Content-Type") || "" };
}

async function check(img) {
  if (seen.has(img)) return;
  const src = img.currentSrc || img.src;
  if (!src || img.naturalWidth < MIN_SIDE || img.naturalHeight < MIN_SIDE) return;
  seen.add(img);
  let answer;
  try {
    const { data, type } = await bytesOf(src);
    answer = await chrome.runtime.sendMessage({ kind: "verify-bytes", data, type });
  } catch {
    answer = src.startsWith("http") ? await chrome.runtime.sendMessage({ kind: "verify-url", url: src }) : null;
  }
  if (!answer) return;
  backendState = answer.unreachable ? "unreachable" : "ok";
  if (!answer.verdict) return;
  count(answer.verdict);
  await showBadge(img, answer.verdict);
}

const visible = new IntersectionObserver((entries) => {
  for (const e of entries) if (e.isIntersecting) { visible.unobserve(e.target); watch(e.target); }
}, { rootMargin: "200px" });

function watch(img) {
  if (img.complete && img.naturalWidth) check(img);
  else img.addEventListener("load", () => check(img), { once: true });
}

function scan(root = document) {
  for (const img of root.querySelectorAll ? root.querySelectorAll("img") : []) visible.observe(img);
}

function toast(text) {
  const root = overlay();
  const panel = document.createElement("div");
  panel.className = "panel"; panel.id = "provenance-selection";
  panel.style.cssText = `left:${window.scrollX + 16}px; top:${window.scrollY + 16}px; position:absolute;`;
  panel.textContent = text;
  root.querySelector("#provenance-selection")?.remove();
  root.append(panel);
  setTimeout(() => panel.remove(), 15000);
}

// --- Selected text, read as the signer wrote it ------------------------------------------
// A text's credentials bind its exact characters, line breaks included. The selection's
// rendered string (Selection.toString()) has the browser's whitespace, not the author's: a
// <p> collapses the source's newlines into spaces. So the text is read from the DOM, and a few
// whitespace-faithful candidates are tried in turn; the backend's hard-binding check decides.

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

async function checkSelection(fallback) {
  const { rendered, candidates } = selectionCandidates(fallback);
  if (!candidates.length) return;
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
  toast(message);
  return answer;
}

chrome.runtime.onMessage.addListener((message, _sender, reply) => {
  if (message.kind === "counts") { reply({ ...counts, optedOut: optedOut(), backendState }); return false; }
  if (message.kind === "scan") { if (!optedOut()) scan(); reply({ ok: true }); return false; }
  if (message.kind === "check-selection") {
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
  scan();
  new MutationObserver((mutations) => {
    for (const m of mutations) for (const n of m.addedNodes) {
      if (n.nodeName === "IMG") visible.observe(n); else if (n.querySelectorAll) scan(n);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  let queued = false;
  const reposition = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; place(); }); } };
  window.addEventListener("scroll", reposition, { passive: true });
  window.addEventListener("resize", reposition);
})();
