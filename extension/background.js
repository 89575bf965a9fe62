// Service worker: the only part that talks to the backend. It queues and rate-limits requests,
// remembers whether the backend answers, and runs the "Check provenance" context-menu entry.
"use strict";

const DEFAULTS = { backend: "http://127.0.0.1:8787", autoScan: true };
const MAX_CONCURRENT = 2;      // requests in flight at once
const MIN_INTERVAL_MS = 100;   // and at most ten starts per second
let active = 0;
let lastStart = 0;
const waiting = [];

async function settings() {
  return { ...DEFAULTS, ...(await chrome.storage.sync.get(Object.keys(DEFAULTS))) };
}

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
    return response.ok ? { verdict: body } : { error: body.error ? body.error.message : `HTTP ${response.status}` };
  } catch (err) {
    await chrome.storage.session.set({ backendState: "unreachable" });
    return { unreachable: true, error: `The provenance service at ${backend} does not answer.` };
  }
}

function fromBase64(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function verifyBytes(b64, type) {
  return queued(() => call("/v1/verify", { method: "POST", body: fromBase64(b64),
                                           headers: { "Content-Type": type || "application/octet-stream" } }));
}

function verifyUrl(url) {
  return queued(() => call("/v1/verify-url", { method: "POST", body: JSON.stringify({ url }),
                                               headers: { "Content-Type": "application/json" } }));
}

function verifyText(text) {
  return queued(() => call("/v1/verify", { method: "POST", body: text,
                                           headers: { "Content-Type": "text/plain; charset=utf-8" } }));
}

chrome.runtime.onMessage.addListener((message, _sender, reply) => {
  if (message.kind === "verify-bytes") verifyBytes(message.data, message.type).then(reply);
  else if (message.kind === "verify-url") verifyUrl(message.url).then(reply);
  else if (message.kind === "verify-text") verifyText(message.text).then(reply);
  else if (message.kind === "settings") settings().then(reply);
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
  chrome.tabs.sendMessage(tab.id, { kind: "check-selection", fallback: info.selectionText });
});
