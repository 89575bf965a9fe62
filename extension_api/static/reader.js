// The reader's page: submit an image or a text, show the verdict (or a stored report).
"use strict";

const result = document.getElementById("result");
let pastedImage = null;

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function row(list, name, value, id) {
  if (value === null || value === undefined || value === "") return;
  const dd = el("dd", { textContent: String(value) });
  if (id) dd.id = id;
  list.append(el("dt", { textContent: name }), dd);
}

// The verdict's fields in words (README, "The verdict"; the OpenAPI schema describes each).
const TRUST_LISTS = {
  c2pa: "the official C2PA trust list",
  interim: "the legacy interim trust list (frozen; predates the official list)",
  user: "a trust anchor configured on this service",
};
const SOURCES = {
  embedded: "embedded in the file",
  watermark: "not embedded: recovered from the registry through the invisible watermark",
  fingerprint: "not embedded: recovered from the registry through the image's fingerprint",
};

function aiWords(ai) {
  if (ai.claimed) return `claimed by invalid credentials (${ai.scope === "part" ? "in part" : "whole"})`;
  if (ai.generated && (ai.evidence || []).includes("c2pa-description") && !(ai.evidence || []).includes("c2pa"))
    return `yes, said in words only: "${ai.description}"`;
  if (ai.generated === null && ai.scope === "part") return "unknown: a synthetic element, not said to be AI";
  if (ai.generated === null) return "unknown";
  return ai.generated ? `yes (${ai.scope === "part" ? "in part" : "whole"})` : "not declared";
}

function render(verdict, submittedUrl) {
  result.replaceChildren();
  const c = verdict.credentials, ai = verdict.ai;
  const card = el("section", { className: "card", id: "verdict" });
  card.append(el("p", { className: "summary", id: "summary", textContent: verdict.summary }));
  const state = c.state || "none";
  const recoveredBadge = c.source === "watermark" || c.source === "fingerprint" ? " (recovered, not embedded)" : "";
  card.append(el("span", { className: `state ${state}`, id: "state",
                           textContent: c.state ? c.state + recoveredBadge : "No credentials" }));
  const facts = el("dl");
  row(facts, "AI-generated", aiWords(ai), "ai");
  row(facts, "Evidence", (ai.evidence || []).join(", "));
  row(facts, "Credentials", SOURCES[c.source], "source");
  row(facts, "Trust list", TRUST_LISTS[c.trust_list], "trust-list");
  row(facts, "Generator", c.generator);
  row(facts, "Signed by", c.signer ? `${c.signer.issuer || ""} (${c.signer.common_name || ""})` : null);
  row(facts, "Signed at", c.signed_at || (c.created_at ? `declared ${c.created_at}` : null));
  row(facts, "Failures", (c.failures || []).join(", "));
  row(facts, "Watermark", verdict.watermark_skipped && `not looked for: ${verdict.watermark_skipped}`, "watermark");
  const failing = (c.ingredients || []).filter((i) => (i.failures || []).length);
  row(facts, "Failing ingredient", failing.map((i) => `${i.title || "untitled"}: ${i.failures.join(", ")}`).join("; "),
      "failing-ingredient");
  row(facts, "Manifest", c.manifest_id);
  row(facts, "SHA-256", verdict.sha256);
  card.append(facts);
  result.append(card);

  if ((c.ingredients || []).length) {
    const history = el("section", { className: "card", id: "history" }, [el("h2", { textContent: "History" })]);
    const list = el("ul");
    for (const ing of c.ingredients) {
      const kinds = (ing.source_types || []).map((t) => t.split("/").pop()).join(", ");
      list.append(el("li", { textContent: `${ing.relationship || "ingredient"}: ${ing.title || "untitled"}` +
        (kinds ? ` — ${kinds}` : "") + ((ing.failures || []).length ? ` — failed: ${ing.failures.join(", ")}` : "") }));
    }
    history.append(list);
    result.append(history);
  }

  const possible = verdict.matches || [];
  const recovered = c.source === "watermark" || c.source === "fingerprint";
  if (recovered || possible.length) {
    const id = recovered ? c.manifest_id : possible[0].manifest_id;
    const similarity = recovered ? c.similarity : possible[0].similarity;
    const compare = el("section", { className: "card", id: "compare" }, [
      el("h2", { textContent: recovered ? "Submitted copy and the signed original" : "Possible match" }),
    ]);
    const grid = el("div", { className: "compare" });
    // A picture found inside a canvas (a screenshot, a border): the summary gives its place in
    // the file's pixels, which a reader cannot find on the scaled copy shown here; outlined.
    const region = !recovered && verdict.watermark && verdict.watermark.detected ? verdict.watermark.region : null;
    if (submittedUrl) {
      const img = el("img", { src: submittedUrl, alt: "submitted" });
      const shown = el("span", { className: "shown" }, [img]);
      if (region) {
        const outline = el("div", { className: "region", id: "region" });
        const put = () => {
          const [x, y, w, h] = region, W = img.naturalWidth, H = img.naturalHeight;
          Object.assign(outline.style, { left: `${100 * x / W}%`, top: `${100 * y / H}%`, width: `${100 * w / W}%`, height: `${100 * h / H}%` });
        };
        if (img.complete && img.naturalWidth) put(); else img.addEventListener("load", put);
        shown.append(outline);
      }
      // A mirrored or turned copy beside the signed original looks like another picture: the
      // caption says how it was turned, in the verdict's words (verdict.py Orientation).
      const turned = verdict.watermark && verdict.watermark.detected ? verdict.watermark.mirrored_or_turned : null;
      grid.append(el("figure", {}, [shown, el("figcaption", {
        textContent: region ? "Submitted — the watermark is in the outlined picture only"
          : turned ? `Submitted — a copy ${turned}` : "Submitted" })]));
    }
    // Who registered a possible match's credentials (not applied, so not judged here).
    const by = !recovered && possible[0].signer ? `, registered by ${possible[0].signer}` : "";
    grid.append(el("figure", {}, [el("img", { src: `/v1/thumbnails/${encodeURIComponent(id)}`, alt: "registered original" }),
                                  el("figcaption", { textContent: `Registered original${by} — similarity ${Math.round(100 * (similarity || 0))}%` })]));
    compare.append(grid);
    result.append(compare);
  }
}

function showError(message) {
  result.replaceChildren(el("p", { className: "error", id: "error", textContent: message }));
}

// RFC 6266/8187: the file's name, so that the service's messages name it ("cat.jpg: ...").
function disposition(name) {
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return `attachment; filename*=UTF-8''${encoded}`;
}

async function check(body, type, submittedUrl, name) {
  result.textContent = "Checking…";
  const headers = { "Content-Type": type };
  if (name) headers["Content-Disposition"] = disposition(name);
  try {
    const response = await fetch("/v1/verify", { method: "POST", body, headers });
    const data = await response.json();
    if (!response.ok) return showError(data.error ? data.error.message : `HTTP ${response.status}`);
    history.replaceState(null, "", `/report/${data.sha256}`);
    render(data, submittedUrl);
  } catch (err) {
    showError(`The service did not answer: ${err}`);
  }
}

document.getElementById("check").addEventListener("submit", (event) => {
  event.preventDefault();
  const file = document.getElementById("file").files[0];
  const text = document.getElementById("text").value;
  // An empty file or an empty form would reach the API and get its words ("the request body is
  // empty; send the file as the body"), which tell a reader on this page nothing they can do.
  if (file && file.size === 0) {
    showError(`${file.name}: the file is empty (a copy or download may have failed: choose a complete copy of the file)`);
  } else if (file) {
    const isText = file.type.startsWith("text/") || /\.(txt|md)$/i.test(file.name);
    check(file, isText ? "text/plain; charset=utf-8" : (file.type || "application/octet-stream"),
          isText ? null : URL.createObjectURL(file), file.name);
  } else if (pastedImage) {
    check(pastedImage, pastedImage.type, URL.createObjectURL(pastedImage));
  } else if (text) {
    check(new Blob([text]), "text/plain; charset=utf-8", null);
  } else {
    showError("Nothing to check: choose a file, paste an image anywhere on this page, or paste a text.");
  }
});

document.addEventListener("paste", (event) => {
  const item = [...event.clipboardData.items].find((i) => i.type.startsWith("image/"));
  if (item) { pastedImage = item.getAsFile(); check(pastedImage, pastedImage.type, URL.createObjectURL(pastedImage)); }
});

// /report/<sha256>: the page the extension links to; shows the verdict the service computed.
const match = location.pathname.match(/^\/report\/([0-9a-f]{64})$/);
if (match) {
  fetch(`/v1/report/${match[1]}`).then(async (response) => {
    const data = await response.json();
    if (response.ok) render(data, null);
    else showError(data.error ? data.error.message : `HTTP ${response.status}`);
  });
}
