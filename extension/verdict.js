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
const UNTRUSTED = "signingCredential.untrusted";
const NOT_DAMAGE = new Set([UNTRUSTED, "signingCredential.ocsp.skipped"]);

const IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/";
// Source types that declare generative AI, whole or in part (manifest.py AI_SOURCE_TYPES).
export const AI_SOURCE_TYPES = new Set([
  IPTC + "trainedAlgorithmicMedia",
  IPTC + "compositeWithTrainedAlgorithmicMedia",
  "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData",
]);
const PARTIAL_AI_SOURCE_TYPES = new Set([IPTC + "compositeWithTrainedAlgorithmicMedia"]);

// The trust list a signer was found in, as c2pa reports it (validation_results.trustListUri,
// named by the anchors' trust_uri in background.js) -> credentials.trust_list.
const TRUST_LISTS = { "c2pa": "c2pa", "c2pa-tsa": "c2pa", "interim": "interim", "user": "user" };

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

function sourceTypes(manifest) {
  return unique([...actions(manifest)].map((a) => a.digitalSourceType).filter(Boolean));
}

// The active manifest (depth 0), then its ingredients' manifests, breadth first, once each.
function* chain(store) {
  const manifests = store.manifests || {};
  const queue = [[0, store.active_manifest]];
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

export function aiOrigin(store) {
  const active = [], inIngredients = [];
  for (const [depth, manifest] of chain(store)) (depth === 0 ? active : inIngredients).push(...sourceTypes(manifest));
  const all = unique([...active, ...inIngredients]);
  const aiActive = active.filter((t) => AI_SOURCE_TYPES.has(t));
  if (!all.some((t) => AI_SOURCE_TYPES.has(t))) return { generated: false, scope: null, source_types: all, evidence: [] };
  const whole = aiActive.length > 0 && !aiActive.some((t) => PARTIAL_AI_SOURCE_TYPES.has(t));
  return { generated: true, scope: whole ? "whole" : "part", source_types: all, evidence: ["c2pa"] };
}

function aiAgent(store) {
  for (const [, manifest] of chain(store)) {
    for (const action of actions(manifest)) {
      if (AI_SOURCE_TYPES.has(action.digitalSourceType)) {
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

export function credentialsFromStore(store, state) {
  const manifests = store.manifests || {};
  const active = manifests[store.active_manifest || ""] || {};
  const results = store.validation_results || {};
  const activeResults = results.activeManifest || {};
  const failures = Object.keys(results).length ? codes(activeResults.failure) : codes(store.validation_status);
  const ingredientFailures = (results.ingredientDeltas || []).flatMap((d) => codes((d.validationDeltas || {}).failure));
  const sig = active.signature_info || {};
  const created = [...actions(active)].find((a) => a.when);
  const resolved = state || store.validation_state || (failures.length ? INVALID : VALID);
  return {
    present: true,
    source: "embedded",
    state: resolved,
    trust_list: resolved === TRUSTED ? TRUST_LISTS[results.trustListUri] || null : null,
    failures,
    informational: codes(activeResults.informational),
    signer: Object.keys(sig).length ? { issuer: sig.issuer ?? null, common_name: sig.common_name ?? null, alg: sig.alg ?? null } : null,
    signed_at: sig.time || null,
    generator: aiAgent(store) || claimGenerator(active),
    manifest_id: store.active_manifest || null,
    title: active.title || null,
    created_at: created ? created.when : null,
    ingredient_failures: unique(ingredientFailures),
    ingredients: (active.ingredients || []).map((i) => ({
      title: i.title ?? null, relationship: i.relationship ?? null, format: i.format ?? null,
      manifest_id: i.active_manifest ?? null, source_types: sourceTypes(manifests[i.active_manifest || ""] || {}),
    })),
    remote_url: null,
    recovered: false,
    similarity: null,
  };
}

export function noCredentials(remoteUrl = null) {
  return {
    present: false, source: null, state: null, trust_list: null,
    failures: remoteUrl ? ["manifest.inaccessible"] : [], informational: [], signer: null,
    signed_at: null, generator: null, manifest_id: null, title: null, created_at: null,
    ingredient_failures: [], ingredients: [], remote_url: remoteUrl, recovered: false, similarity: null,
  };
}

function failureReason(failures) {
  const damage = failures.filter((c) => !NOT_DAMAGE.has(c));
  const pool = damage.length ? damage : failures;
  if (!pool.length) return "the validator reported a failure";
  const code = pool[0];
  return code in FAILURE_WORDS ? `${FAILURE_WORDS[code]} (${code})` : code;
}

// The sentence for what the browser can judge alone: embedded credentials, none, or a remote
// manifest not fetched (watermark and fingerprint sentences are the service's).
export function summarize(credentials, ai) {
  if (!credentials.present) {
    if (credentials.remote_url) {
      return "This file points to Content Credentials stored online, which were not fetched "
        + "(remote fetching is off); nothing is known yet about how it was made.";
    }
    return "No Content Credentials found; this says nothing either way about whether it was made with AI.";
  }
  const tool = credentials.generator ? ` (${credentials.generator})` : "";
  const invalid = credentials.state === INVALID;
  let claim;
  if (ai.generated && ai.scope === "whole") claim = `${invalid ? "Claims to be generated" : "Generated"} with an AI tool${tool}.`;
  else if (ai.generated) claim = `${invalid ? "Claims to combine" : "Combines"} several pieces of content; at least one was generated with an AI tool${tool}.`;
  else claim = "The credentials do not declare any use of generative AI.";
  const signer = credentials.signer;
  const who = (signer && (signer.issuer || signer.common_name)) || "an unidentified signer";
  let trust;
  if (invalid) trust = `The credentials are invalid: ${failureReason(credentials.failures)}; they cannot be relied on.`;
  else if (credentials.state === TRUSTED) trust = `Signed by ${who}; the signature is trusted.`;
  else if (credentials.failures.includes(UNTRUSTED) || !(credentials.failures.length || credentials.ingredient_failures.length)) {
    trust = `Signed by ${who}, a signer that is not on the trust list.`;
  } else {
    const list = (credentials.failures.length ? credentials.failures : credentials.ingredient_failures).join(", ");
    trust = `Signed by ${who}, a trusted signer, but not all of the credentials are (${list}).`;
  }
  return `${claim} ${trust}`;
}

export function verdictOf({ store, state, sha256, mediaType, remoteUrl = null }) {
  const credentials = store ? credentialsFromStore(store, state) : noCredentials(remoteUrl);
  const ai = store ? aiOrigin(store) : { generated: null, scope: null, source_types: [], evidence: [] };
  return {
    path: null, media_type: mediaType, sha256, credentials, ai,
    summary: summarize(credentials, ai), watermark: null, matches: [], text_watermark: null,
  };
}
