// Popup: the page's counts, the backend's state, and the settings.
"use strict";

const $ = (id) => document.getElementById(id);

async function activeTab() {
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab;
}

async function probe(backend) {
  try {
    const r = await fetch(`${backend.replace(/\/$/, "")}/healthz`);
    return r.ok;
  } catch { return false; }
}

async function refresh() {
  const settings = await chrome.runtime.sendMessage({ kind: "settings" });
  $("backend").value = settings.backend;
  $("autoScan").checked = settings.autoScan;
  const up = await probe(settings.backend);
  const tab = await activeTab();
  let counts = null;
  try { counts = tab && await chrome.tabs.sendMessage(tab.id, { kind: "counts" }); } catch { counts = null; }
  if (counts) for (const key of ["checked", "ai", "credentials", "invalid", "possible"]) $(key).textContent = counts[key];
  const state = $("state");
  state.className = up ? "" : "unreachable";
  state.textContent = !up ? `The service at ${settings.backend} is unreachable.`
    : counts && counts.optedOut ? "This page asks not to show credential badges."
    : "Connected to the provenance service.";
}

$("backend").addEventListener("change", async (e) => {
  const backend = e.target.value.trim();
  let origin;
  try { origin = new URL(backend).origin; } catch { $("state").textContent = "That is not a URL."; return; }
  // Loopback is granted at install; any other service is asked for now, for its origin only.
  if (!["127.0.0.1", "localhost"].includes(new URL(backend).hostname)) {
    const granted = await chrome.permissions.request({ origins: [`${origin}/*`] });
    if (!granted) { $("state").textContent = `No permission to reach ${origin}.`; return; }
  }
  await chrome.storage.sync.set({ backend });
  refresh();
});
$("autoScan").addEventListener("change", (e) => chrome.storage.sync.set({ autoScan: e.target.checked }));
$("scan").addEventListener("click", async () => {
  const tab = await activeTab();
  if (tab) await chrome.tabs.sendMessage(tab.id, { kind: "scan" });
  setTimeout(refresh, 1500);
});
refresh();
