// The full report of credentials checked in the browser (C2PA UX level 3, in brief): the
// verdict, the ingredients, the validation codes and the manifest store as c2pa reads it.
// Kept only for this browser session; nothing leaves the browser.
"use strict";
import { TRUST_LIST_WORDS } from "./verdict.js";

const $ = (id) => document.getElementById(id);

function field(list, name, value) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return;
  const dt = document.createElement("dt"); dt.textContent = name;
  const dd = document.createElement("dd"); dd.textContent = Array.isArray(value) ? value.join(", ") : value;
  list.append(dt, dd);
}

(async () => {
  const sha256 = new URLSearchParams(location.search).get("sha256");
  const { reports = [] } = await chrome.storage.session.get("reports");
  const report = reports.find((r) => r.sha256 === sha256);
  if (!report) { $("summary").textContent = "This report is no longer kept (reports last for one browser session): check the image again."; return; }
  const { verdict, c2paReport } = report;
  const c = verdict.credentials;
  $("summary").textContent = verdict.summary;
  if (c.thumbnail) { const img = document.createElement("img"); img.src = c.thumbnail; img.alt = "thumbnail from the credentials"; $("thumb").append(img); }
  const f = $("fields");
  field(f, "State", c.state);
  field(f, "Signed by", c.signer && [c.signer.issuer, c.signer.common_name].filter(Boolean).join(" / "));
  // In words, as on the card (it gave the list's code: "user", "interim"); a user anchor here is
  // the reader's own (the report is of a check made in this browser).
  field(f, "Trust list", c.trust_list === "user" ? "a trust anchor you configured" : TRUST_LIST_WORDS[c.trust_list]);
  field(f, "Signed at", c.signed_at);
  field(f, "Created at", c.created_at);
  field(f, "Generator", c.generator);
  field(f, "Title", c.title);
  field(f, "AI origin", verdict.ai.generated === null ? "unknown" : verdict.ai.generated ? verdict.ai.scope : "not declared");
  field(f, "Source types", verdict.ai.source_types);
  field(f, "Manifest", c.manifest_id);
  field(f, "Stored online at", c.remote_url);
  field(f, "SHA-256", verdict.sha256);
  for (const i of c.ingredients) {
    const li = document.createElement("li");
    li.textContent = [i.title, i.relationship, i.format, i.source_types.join(" ")].filter(Boolean).join(" · ");
    $("ingredients").append(li);
  }
  const v = $("validation");
  field(v, "Failures", c.failures);
  field(v, "Ingredient failures", c.ingredient_failures);
  field(v, "Informational", c.informational);
  $("c2pa-report").textContent = c2paReport ? JSON.stringify(c2paReport, null, 2)
    : "None: the file carries no manifest store, only the address of one stored online, which was not fetched.";
})();
