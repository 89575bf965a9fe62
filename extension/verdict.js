// The verdict of credentials read in the browser, in the same JSON shape and the same words as
// the service's (provenance/verdict.py). This file follows that module line by line;
// tests/test_extension_e2e.py checks that both sides give the same state, AI origin, signer,
// trust list and sentence on every peer file, so a change on one side that the other lacks fails.
"use strict";

export const TRUSTED = "Trusted", VALID = "Valid", INVALID = "Invalid";

// Plain words for the failure codes readers meet most (verdict.py FAILURE_WORDS).
export const FAILURE_WORDS = {
  "assertion.dataHash.mismatch": "the content was changed after it was signed",
  "assertion.bmffHash.mismatch": "the content was changed after it was signed",
  "assertion.boxesHash.mismatch": "the content was changed after it was signed",
  "assertion.hashedURI.mismatch": "part of the manifest was altered after signing",
  "claimSignature.mismatch": "the signature does not match the claim",
  "claimSignature.missing": "the signature is missing",
  "signingCredential.invalid": "the signing certificate is not valid for signing content",
  "signingCredential.expired": "the signing certificate had expired",
  "signingCredential.revoked": "the signing certificate was revoked",
  "claim.missing": "the claim is missing",
  "assertion.missing": "an assertion the claim lists is missing",
  "manifest.text.corruptedWrapper": "the embedded manifest is damaged",
  "manifest.text.multipleWrappers": "the text holds more than one manifest",
};
// Hard-binding codes: the signed content's bytes no longer hash as signed (verdict.py HARD_BINDING).
export const HARD_BINDING = new Set(["assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch"]);
// A file that ends before its format's end: an incomplete copy, not an edit (verdict.py
// CUT_SHORT, CUT_SHORT_WORDS).
export const CUT_SHORT = "the file is cut short (an incomplete copy: get a complete one)";
export const CUT_SHORT_WORDS = `${CUT_SHORT}, which is why the content no longer matches its signature`;
const UNTRUSTED = "signingCredential.untrusted";
const NOT_DAMAGE = new Set([UNTRUSTED, "signingCredential.ocsp.skipped"]);

// Where a verdict's credentials came from (credentials.source).
export const EMBEDDED = "embedded", WATERMARK = "watermark", FINGERPRINT = "fingerprint";
// Which trust list made the signer trusted (credentials.trust_list), in words.
export const TRUST_LIST_WORDS = {
  c2pa: "the official C2PA trust list",
  interim: "the legacy interim trust list (frozen; it predates the official C2PA list)",
  // Neutral: the reader or the service's operator added it (each face's own field says which).
  user: "a trust anchor added to this verifier's configuration",
};
const EVIDENCE_C2PA = "c2pa", EVIDENCE_DESCRIPTION = "c2pa-description";

// Source types are compared by term: http and https IPTC URIs both occur in real files
// (manifest.py AI_TERMS, PARTIAL_AI_TERMS, SYNTHETIC_TERMS).
export const AI_TERMS = new Set(["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "trainedAlgorithmicData"]);
const PARTIAL_AI_TERMS = new Set(["compositeWithTrainedAlgorithmicMedia"]);
const SYNTHETIC_TERMS = new Set(["compositeSynthetic"]);
const SOURCE_TYPE_PREFIXES = ["cv.iptc.org/newscodes/digitalsourcetype/", "c2pa.org/digitalsourcetype/"];

export function sourceTypeTerm(uri) {
  let rest = String(uri).trim();
  if (rest.startsWith("https://")) rest = rest.slice(8); else if (rest.startsWith("http://")) rest = rest.slice(7);
  for (const prefix of SOURCE_TYPE_PREFIXES) {
    if (rest.startsWith(prefix)) return rest.slice(prefix.length).replace(/^\/+|\/+$/g, "") || null;
  }
  return null;
}

// c2pa names the trust anchor entry (its trust_uri, set in background.js as the Python side
// does) that made a signer trusted: "signing certificate trusted, found in [interim] trust
// anchors". An allow-listed end-entity certificate is "found in []": only the interim list has one.
const FOUND_IN = /found in \[([^\]]*)\]/;
const LIST_OF_ANCHOR = { "c2pa": "c2pa", "c2pa-tsa": "c2pa", "interim": "interim", "interim-tsa": "interim", "": "interim", "user": "user" };

const unique = (xs) => [...new Set(xs)];

function* actions(manifest) {
  for (const assertion of manifest.assertions || []) {
    if (String(assertion.label || "").startsWith("c2pa.actions")) yield* ((assertion.data || {}).actions || []);
  }
}

function agentName(agent) {
  if (typeof agent === "string") return agent || null;
  if (agent && typeof agent === "object" && agent.name) return agent.version ? `${agent.name} ${agent.version}` : String(agent.name);
  return null;
}

function declaredType(action) {
  // 1.x writers sometimes put it among the action's parameters.
  const value = action.digitalSourceType || (action.parameters || {}).digitalSourceType;
  return value ? String(value) : null;
}

function sourceTypes(manifest) {
  const found = [...actions(manifest)].map(declaredType).filter(Boolean);
  for (const assertion of manifest.assertions || []) {
    // Legacy (1.x) IPTC photo-metadata assertion: Iptc4xmpExt:DigitalSourceType.
    if (String(assertion.label || "").startsWith("stds.iptc")) {
      const data = assertion.data || {};
      const value = data["Iptc4xmpExt:DigitalSourceType"] || data.DigitalSourceType;
      if (typeof value === "string" && value) found.push(value);
    }
  }
  return unique(found);
}

// Free text that names generative AI (Bing Image Creator writes only "AI Generated Image").
const AI_WORDS = new RegExp(
  "\\b(?:AI|A\\.I\\.|artificial intelligence)[- ]generated\\b"
  + "|\\bgenerated (?:by|with|using) (?:an? )?(?:AI|artificial intelligence|generative)\\b"
  + "|\\bgenerative AI\\b|\\btext[- ]to[- ]image\\b", "i");

function aiDescription(manifest) {
  for (const action of actions(manifest)) {
    const params = action.parameters || {};
    for (const text of [action.description, params.description]) {
      if (typeof text === "string" && AI_WORDS.test(text)) return text.trim();
    }
  }
  return null;
}

// The active manifest (depth 0), then its ingredients' manifests, breadth first, once each.
function* chain(report) {
  const manifests = report.manifests || {};
  const queue = [[0, report.active_manifest]];
  const seen = new Set();
  while (queue.length) {
    const [depth, label] = queue.shift();
    if (!label || seen.has(label) || !(label in manifests)) continue;
    seen.add(label);
    const manifest = manifests[label];
    yield [depth, manifest];
    for (const i of manifest.ingredients || []) queue.push([depth + 1, i.active_manifest]);
  }
}

export function aiOrigin(report) {
  const active = [], inIngredients = [];
  let description = null;
  for (const [depth, manifest] of chain(report)) {
    (depth === 0 ? active : inIngredients).push(...sourceTypes(manifest));
    if (description === null) {
      const text = aiDescription(manifest);
      description = text ? [depth, text] : null;
    }
  }
  const all = unique([...active, ...inIngredients]);
  const base = { source_types: all, claimed: false, description: null };
  const aiActive = active.filter((t) => AI_TERMS.has(sourceTypeTerm(t)));
  if (all.some((t) => AI_TERMS.has(sourceTypeTerm(t)))) {
    const partial = aiActive.some((t) => PARTIAL_AI_TERMS.has(sourceTypeTerm(t)));
    return { ...base, generated: true, scope: aiActive.length && !partial ? "whole" : "part", evidence: [EVIDENCE_C2PA] };
  }
  if (description !== null) {
    const [depth, text] = description;
    return { ...base, generated: true, scope: depth === 0 ? "whole" : "part", evidence: [EVIDENCE_DESCRIPTION], description: text };
  }
  if (all.some((t) => SYNTHETIC_TERMS.has(sourceTypeTerm(t)))) return { ...base, generated: null, scope: "part", evidence: [] };
  return { ...base, generated: false, scope: null, evidence: [] };
}

// The softwareAgent of the first action in the chain that declares AI, leaving out ingredients
// that had failed validation when used (and their own ingredients): a tool named only by damaged
// credentials is a claim, not the maker of this content.
function aiAgent(report) {
  const damaged = new Set();
  for (const [, manifest] of chain(report)) {
    const ingredients = manifest.ingredients || [];
    if (damaged.has(manifest.label)) {
      for (const i of ingredients) damaged.add(i.active_manifest || "");
      continue;
    }
    for (const i of ingredients) if (recordedDamage(i).length) damaged.add(i.active_manifest || "");
    for (const action of actions(manifest)) {
      if (AI_TERMS.has(sourceTypeTerm(declaredType(action) || ""))) {
        const name = agentName(action.softwareAgent);
        if (name) return name;
      }
    }
  }
  return null;
}

function claimGenerator(manifest) {
  const info = manifest.claim_generator_info || [];
  if (info.length && info[0] && typeof info[0] === "object") return agentName(info[0]);
  return manifest.claim_generator || null;
}

const codes = (entries) => unique((entries || []).map((e) => e.code).filter(Boolean));

export function trustListOf(report) {
  const results = (report.validation_results || {}).activeManifest || {};
  for (const entry of results.success || []) {
    if (entry.code === "signingCredential.trusted") {
      const found = FOUND_IN.exec(String(entry.explanation || ""));
      return found ? LIST_OF_ANCHOR[found[1]] ?? null : null;
    }
  }
  return null;
}

// Failures recorded in an ingredient when it was used (c2pa keeps the parent's validation
// results in the ingredient assertion): an ingredient that was already invalid. Trust codes are
// left out: they speak of the signing tool's trust settings, not of damage.
function recordedDamage(ingredient) {
  const results = ingredient.validation_results || {};
  let entries = Object.keys(results).length ? (results.activeManifest || {}).failure : undefined;
  if (entries === undefined || entries === null) entries = ingredient.validation_status;
  return codes(entries).filter((c) => !NOT_DAMAGE.has(c));
}

export function credentialsFromReport(report, state) {
  const manifests = report.manifests || {};
  const active = manifests[report.active_manifest || ""] || {};
  const results = report.validation_results || {};
  const activeResults = results.activeManifest || {};
  const failures = Object.keys(results).length ? codes(activeResults.failure) : codes(report.validation_status);
  const ingredientFailures = (results.ingredientDeltas || []).flatMap((d) => codes((d.validationDeltas || {}).failure));
  ingredientFailures.push(...(active.ingredients || []).flatMap(recordedDamage));
  // Each delta names its ingredient assertion by URI, ending in that ingredient's label.
  const byLabel = {};
  for (const delta of results.ingredientDeltas || []) {
    const label = String(delta.ingredientAssertionURI || "").split("/").pop();
    (byLabel[label] ||= []).push(...codes((delta.validationDeltas || {}).failure));
  }
  const sig = active.signature_info || {};
  const created = [...actions(active)].find((a) => a.when);
  return {
    present: true,
    source: EMBEDDED,
    state: state || report.validation_state || (failures.length ? INVALID : VALID),
    failures,
    informational: codes(activeResults.informational),
    signer: Object.keys(sig).length ? { issuer: sig.issuer ?? null, common_name: sig.common_name ?? null, alg: sig.alg ?? null } : null,
    signed_at: sig.time || null,
    // Where AI is declared, only a declared AI tool is named: the claim generator is the tool
    // that signed, not the AI.
    generator: aiAgent(report) || (aiOrigin(report).generated ? null : claimGenerator(active)),
    manifest_id: report.active_manifest || null,
    title: active.title || null,
    created_at: created ? created.when : null,
    ingredient_failures: unique(ingredientFailures),
    ingredients: (active.ingredients || []).map((i) => ({
      title: i.title ?? null, relationship: i.relationship ?? null, format: i.format ?? null,
      manifest_id: i.active_manifest ?? null, source_types: sourceTypes(manifests[i.active_manifest || ""] || {}),
      failures: unique([...(byLabel[String(i.label || "")] || []), ...recordedDamage(i)]),
    })),
    remote_url: null,
    trust_list: trustListOf(report),
    recovered: false,
    similarity: null,
  };
}

export function noCredentials(remoteUrl = null) {
  return {
    present: false, source: null, state: null,
    failures: remoteUrl ? ["manifest.inaccessible"] : [], informational: [], signer: null,
    signed_at: null, generator: null, manifest_id: null, title: null, created_at: null,
    ingredient_failures: [], ingredients: [], remote_url: remoteUrl, trust_list: null, recovered: false, similarity: null,
  };
}

// The first ingredient with damage (trust codes alone are not named: an untrusted ingredient
// signer is not a failure).
function failingIngredient(credentials) {
  for (const ingredient of credentials.ingredients) {
    const damage = ingredient.failures.filter((c) => !NOT_DAMAGE.has(c));
    if (damage.length) {
      const name = ingredient.title ? `"${ingredient.title}"` : "(untitled)";
      return `the ingredient ${name} failed validation (${damage.join(", ")})`;
    }
  }
  const damage = credentials.ingredient_failures.filter((c) => !NOT_DAMAGE.has(c));
  if (damage.length) return `an ingredient failed validation (${damage.join(", ")})`;
  return null;
}

// The first ingredient whose signer is not trusted (what keeps a trusted signer's credentials
// Valid rather than Trusted).
function untrustedIngredient(credentials) {
  for (const ingredient of credentials.ingredients) {
    if (ingredient.failures.includes(UNTRUSTED)) return ingredient.title ? `the ingredient "${ingredient.title}"` : "an ingredient";
  }
  return credentials.ingredient_failures.includes(UNTRUSTED) ? "an ingredient" : null;
}

// -- a copy cut short (provenance/media.py cut_short) ------------------------------------------

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SOS = 0xda;
const startsWith = (bytes, magic) => magic.every((b, i) => bytes[i] === b);
const be = (bytes, at, n) => bytes.subarray(at, at + n).reduce((v, b) => v * 256 + b, 0);
const le32 = (bytes, at) => bytes[at] + bytes[at + 1] * 0x100 + bytes[at + 2] * 0x10000 + bytes[at + 3] * 0x1000000;

// The kinds of a PNG's whole chunks, up to IEND or the first that does not fit in the bytes.
function pngChunkKinds(png) {
  const kinds = [];
  let pos = PNG_SIGNATURE.length;
  while (pos + 12 <= png.length) {
    const end = pos + 12 + be(png, pos, 4);
    if (end > png.length) break;
    const kind = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    kinds.push(kind);
    if (kind === "IEND") break;
    pos = end;
  }
  return kinds;
}

// Where a JPEG's marker segments before its first scan end, up to the first that does not fit.
function jpegSegmentsEnd(jpeg) {
  let pos = 2, last = 2;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff) {
    const marker = jpeg[pos + 1];
    if (marker === 0xff) { pos += 1; continue; }  // a fill byte before a marker
    if (marker === SOS) break;
    const end = pos + 2 + be(jpeg, pos + 2, 2);
    if (end > jpeg.length) break;
    last = pos = end;
  }
  return last;
}

// Whether the bytes (a Uint8Array) end before the format's own end: a JPEG with no EOI after
// its first scan (or ending inside a header segment), a PNG without IEND, a WebP shorter than
// its RIFF header declares. The structure only, in one pass; false for anything else.
export function cutShort(data, mediaType) {
  if (mediaType === "image/png" && startsWith(data, PNG_SIGNATURE)) {
    const kinds = pngChunkKinds(data);
    return !kinds.length || kinds[kinds.length - 1] !== "IEND";
  }
  if (mediaType === "image/webp" && startsWith(data, [0x52, 0x49, 0x46, 0x46])) return le32(data, 4) + 8 > data.length;
  if (mediaType !== "image/jpeg" || !startsWith(data, [0xff, 0xd8])) return false;
  let pos = jpegSegmentsEnd(data);
  while (pos + 1 < data.length && data[pos] === 0xff && data[pos + 1] === 0xff) pos += 1;
  if (pos + 4 > data.length) return true;  // ends within the segments before the scan
  if (data[pos] !== 0xff) return false;     // not a marker where one belongs: damaged, not ours to name
  if (data[pos + 1] !== SOS) return true;   // the segment there runs past the end of the bytes
  // Entropy-coded data escapes every 0xFF (0xFF00), so the scan holds no EOI of its own.
  for (let i = pos; i + 1 < data.length; i++) if (data[i] === 0xff && data[i + 1] === 0xd9) return false;
  return true;
}

function failureReason(credentials, isCutShort = false) {
  const failures = credentials.failures;
  let damage = failures.filter((c) => !NOT_DAMAGE.has(c));
  if (!damage.length) {
    // Nothing wrong with the active manifest itself: name the failing ingredient.
    const ingredient = failingIngredient(credentials);
    if (ingredient) return ingredient;
    damage = failures;
  }
  if (!damage.length) return "the validator reported a failure";
  const code = damage[0];
  if (isCutShort && HARD_BINDING.has(code)) return `${CUT_SHORT_WORDS} (${code})`;
  return code in FAILURE_WORDS ? `${FAILURE_WORDS[code]} (${code})` : code;
}

// The sentence for what the browser can judge alone: embedded credentials, none, or a remote
// manifest not fetched (watermark and fingerprint sentences are the service's). trustConfigured:
// whether the verifier had any trust list or anchor (without one, no signer can be trusted).
export function summarize(credentials, ai, trustConfigured = true, isCutShort = false) {
  if (credentials.source === null) {
    if (credentials.remote_url) {
      return "This file points to Content Credentials stored online, which were not fetched "
        + "(remote fetching is off); nothing is known yet about how it was made.";
    }
    return "No Content Credentials found; this says nothing either way about whether it was made with AI.";
  }
  const tool = credentials.generator ? ` (${credentials.generator})` : "";
  const invalid = credentials.state === INVALID;
  let claim;
  if (ai.generated && ai.evidence.includes(EVIDENCE_DESCRIPTION) && !ai.evidence.includes(EVIDENCE_C2PA)) {
    // AI named in words only: say so, quoting them, rather than a formal declaration.
    claim = `${invalid ? "Claims" : "Says"} in words that it was made with AI ("${ai.description}"), without a formal source type${tool}.`;
  } else if (ai.generated && ai.scope === "whole") claim = `${invalid ? "Claims to be generated" : "Generated"} with an AI tool${tool}.`;
  else if (ai.generated) claim = `${invalid ? "Claims to combine" : "Combines"} several pieces of content; at least one was generated with an AI tool${tool}.`;
  else if (ai.generated === null && ai.scope === "part") {
    claim = `${invalid ? "Claims to combine" : "Combines"} several pieces of content, at least one synthetic (compositeSynthetic); it does not say whether generative AI was used.`;
  } else claim = "The credentials do not declare any use of generative AI.";
  const signer = credentials.signer;
  const who = (signer && (signer.issuer || signer.common_name)) || "an unidentified signer";
  let trust;
  if (invalid) trust = `The credentials are invalid: ${failureReason(credentials, isCutShort)}; they cannot be relied on.`;
  else if (credentials.state === TRUSTED) {
    const listed = TRUST_LIST_WORDS[credentials.trust_list || ""];
    trust = `Signed by ${who}; the signature is trusted` + (listed ? ` through ${listed}.` : ".");
  }
  else if (!trustConfigured) trust = `Signed by ${who}; no trust list is configured, so no signer can be trusted.`;
  else if (credentials.failures.includes(UNTRUSTED) || !(credentials.failures.length || credentials.ingredient_failures.length)) {
    trust = `Signed by ${who}, a signer that is not on the trust list.`;
  } else if (credentials.failures.length) {
    // The claim signer is trusted, yet something else (an identity assertion) is not.
    trust = `Signed by ${who}, a trusted signer, but not all of the credentials are (${credentials.failures.join(", ")}).`;
  } else if (untrustedIngredient(credentials)) {
    // A trusted signer, yet Valid: say why rather than leave "trusted" beside "Valid".
    trust = `Signed by ${who}, a trusted signer; the credentials are Valid, not Trusted, because the signer of ${untrustedIngredient(credentials)} is not trusted.`;
  } else {
    trust = `Signed by ${who}, a trusted signer.`;
  }
  const failing = invalid ? null : failingIngredient(credentials);
  // Intact and signed, yet built on an ingredient that failed: name it.
  if (failing) trust += ` But ${failing}.`;
  return `${claim} ${trust}`;
}

// Fields that follow from the final state (verify.py _settle): the trust list only for
// Trusted credentials; an AI origin read from Invalid credentials is only claimed.
function settle(credentials, ai) {
  if (credentials.state !== TRUSTED) credentials.trust_list = null;
  ai.claimed = credentials.state === INVALID && ai.generated === true;
}

// ``bytes``: the file (a Uint8Array), looked at only when the hash fails, to tell a copy cut
// short from an edit (verify.py).
export function verdictOf({ report, state, sha256, mediaType, remoteUrl = null, trustConfigured = true, bytes = null }) {
  const credentials = report ? credentialsFromReport(report, state) : noCredentials(remoteUrl);
  const ai = report ? aiOrigin(report) : { generated: null, scope: null, source_types: [], evidence: [], claimed: false, description: null };
  settle(credentials, ai);
  const isCutShort = !!bytes && credentials.failures.some((c) => HARD_BINDING.has(c)) && cutShort(bytes, mediaType);
  return {
    path: null, media_type: mediaType, sha256, credentials, ai,
    summary: summarize(credentials, ai, trustConfigured, isCutShort), watermark: null, watermark_skipped: null, matches: [], text_watermark: null,
  };
}

// -- files the browser cannot read (provenance/_internal/c2pa_adapter.py _mapped, verify.py) --
// The library's error for each case, as its message (after the file's name) and its hint.
// c2pa's own reason, which the library's message carries between the two, is a code for
// developers ("C2pa(UnknownAlgorithm)"), not a sentence: a card gives it apart, as a detail.
export const UNREADABLE = {
  "cut-short": [CUT_SHORT, null],
  damaged: ["the file's structure is damaged", "the file may be damaged or cut short: use a complete copy"],
  manifest: ["the C2PA manifest cannot be read", "it may be from a pre-release or unsupported C2PA version"],
};

// Which of those a c2pa error is, for these bytes (c2pa's WASM build names its errors by their
// Rust variants: "C2pa(InvalidAsset(...))" where c2pa-python says "asset could not be parsed").
export function unreadableKind(message, bytes, mediaType) {
  if (cutShort(bytes, mediaType)) return "cut-short";
  if (/InvalidAsset|could not be parsed|IoError|\bIo\(/.test(message)) return "damaged";
  return "manifest";
}

// The reader's sentence for one of those: what went wrong and what to do, in the library's words.
export function unreadableSentence(kind) {
  const [what, hint] = UNREADABLE[kind];
  return `${what[0].toUpperCase()}${what.slice(1)}${hint ? ` (${hint})` : ""}.`;
}

// The reader's sentence and c2pa's reason from a library error's text as the service sends it
// ("content: <message> (<reason>) (<hint>)"), or null for any other error.
export function splitLibraryError(text) {
  for (const [kind, [what, hint]] of Object.entries(UNREADABLE)) {
    const at = text.indexOf(`: ${what}`);
    if (at < 0) continue;
    let rest = text.slice(at + 2 + what.length);
    if (hint) {
      if (!rest.endsWith(` (${hint})`)) continue;
      rest = rest.slice(0, -(hint.length + 3));
    }
    const reason = rest.startsWith(" (") && rest.endsWith(")") ? rest.slice(2, -1) : rest.trim();
    return { error: unreadableSentence(kind), detail: reason || null, problem: kind };
  }
  return null;
}

// -- text (verify.py _verify_text) -----------------------------------------------------------

// Why a text's C2PA manifest wrapper could not be read, in a reader's words
// (verdict.py TEXT_WRAPPER_PROBLEMS).
export const TEXT_WRAPPER_PROBLEMS = {
  truncated: "its manifest wrapper is truncated (it declares more data than the text holds), so they cannot be read",
  version: "its manifest wrapper has a version this reader does not know, so they cannot be read",
  unreadable: "the manifest in its wrapper cannot be parsed, so they cannot be read",
  multiple: "it holds more than one manifest wrapper (several signed texts pasted together?), so no one set of them applies to the whole text",
};

// The sentence for text whose embedded credentials cannot be read at all (the browser has no
// fingerprint matches or language-model watermark keys: those sentences are the service's).
export function summarizeUnreadableText(problem) {
  return `The text carries C2PA Content Credentials, but ${TEXT_WRAPPER_PROBLEMS[problem]}; they say nothing either way about how it was made.`;
}

// Trusted / Valid / Invalid from the remaining failures and whether c2pa trusted the signer
// (verify.py _judged_state: for manifests judged without their asset bytes).
function judgedState(report, failures) {
  const success = ((report.validation_results || {}).activeManifest || {}).success || [];
  const trusted = success.some((e) => e.code === "signingCredential.trusted");
  if (!failures.every((c) => c === UNTRUSTED)) return INVALID;
  return trusted ? TRUSTED : VALID;
}

const HASH_MATCH = "assertion.dataHash.match", HASH_MISMATCH = "assertion.dataHash.mismatch";

// The verdict on a text from what text_manifest.js readTextManifest found (null: no wrapper).
export function textVerdictOf({ found, sha256, trustConfigured = true }) {
  let credentials, ai = { generated: null, scope: null, source_types: [], evidence: [], claimed: false, description: null };
  if (found === null) credentials = noCredentials();
  else if (found.report === null) credentials = { ...noCredentials(), present: true, source: EMBEDDED, state: INVALID, failures: found.bindingCodes };
  else {
    credentials = credentialsFromReport(found.report, found.state);
    // c2pa could not hash the text and says so; the text's own binding check replaces that code.
    credentials.failures = credentials.failures.filter((c) => c !== HASH_MISMATCH);
    credentials.failures.push(...found.bindingCodes.filter((c) => c !== HASH_MATCH));
    credentials.state = judgedState(found.report, credentials.failures);
    ai = aiOrigin(found.report);
  }
  settle(credentials, ai);
  let summary;
  if (found && found.problem) summary = summarizeUnreadableText(found.problem);
  else {
    summary = summarize(credentials, ai, trustConfigured);
    if (found && found.renormalised) {
      summary += " Only the text's Unicode normalisation differs from what was signed (its NFC "
        + "form verifies): the characters are the same, the bytes are not.";
    }
  }
  return { path: null, media_type: "text/plain", sha256, credentials, ai, summary, watermark: null, watermark_skipped: null, matches: [], text_watermark: null };
}
