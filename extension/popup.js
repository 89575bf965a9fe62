// Popup: the page's counts, which checks ran where, the service's state, and the settings.
"use strict";

const $ = (id) => document.getElementById(id);
const FLAGS = ["autoScan", "checkLocally", "useService", "useServiceInPrivate"];

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

// The shipped trust lists and their dates (copied with the lists from the Python package).
async function showLists() {
  try {
    const sources = await (await fetch("trust/SOURCES.json")).json();
    const c2pa = sources.c2pa || {}, interim = sources.interim || {};
    $("lists").textContent = `Trust lists in this browser: the official C2PA list (${c2pa.date || "?"}) and the legacy interim list (${interim.version || "?"}, ${interim.date || "?"}).`;
  } catch { $("lists").textContent = ""; }
}

async function refresh() {
  const settings = await chrome.runtime.sendMessage({ kind: "settings" });
  $("backend").value = settings.backend;
  for (const flag of FLAGS) $(flag).checked = settings[flag];
  const tab = await activeTab();
  const privateTab = !!(tab && tab.incognito);
  const serviceOn = settings.useService && (!privateTab || settings.useServiceInPrivate);
  const up = serviceOn ? await probe(settings.backend) : null;
  let counts = null;
  try { counts = tab && await chrome.tabs.sendMessage(tab.id, { kind: "counts" }); } catch { counts = null; }
  if (counts) for (const key of ["checked", "ai", "credentials", "invalid", "possible", "unreadable", "remote", "browser", "service", "skipped", "unreachable", "refused"]) $(key).textContent = counts[key] || 0;
  const { userAnchors } = await chrome.storage.local.get("userAnchors");
  const n = userAnchors ? (userAnchors.match(/BEGIN CERTIFICATE/g) || []).length : 0;
  $("anchorsState").textContent = n ? `${n} anchor(s) of your own are trusted too (trust list "user").` : "";
  const state = $("state");
  state.className = up === false ? "unreachable" : "";
  state.textContent = counts && counts.optedOut ? "This page asks not to show credential badges."
    : !serviceOn ? (privateTab && settings.useService ? "Private window: only this browser checks; the service is not asked."
                                                     : "The service is off: only this browser checks.")
    : !up ? `The service at ${settings.backend} is unreachable; embedded credentials are still checked here.`
    : "Embedded credentials are checked in this browser; the service answers the rest.";
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
  showLists();
refresh();
});
for (const flag of FLAGS) {
  $(flag).addEventListener("change", async (e) => { await chrome.storage.sync.set({ [flag]: e.target.checked }); refresh(); });
}
$("anchors").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  const pem = file ? await file.text() : "";
  if (pem && !pem.includes("BEGIN CERTIFICATE")) { $("anchorsState").textContent = `${file.name} holds no PEM certificate.`; return; }
  await chrome.storage.local.set({ userAnchors: pem });
  showLists();
refresh();
});
$("scan").addEventListener("click", async () => {
  const tab = await activeTab();
  if (tab) await chrome.tabs.sendMessage(tab.id, { kind: "scan" });
  setTimeout(refresh, 1500);
});
showLists();
refresh();
