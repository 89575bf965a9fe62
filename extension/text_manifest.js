// A signed C2PA manifest inside text (C2PA 2.4 A.8), read in the browser. This module follows
// provenance/text_manifest.py's reading half line by line; tests/test_extension_parity.py
// compares the verdicts of both sides on signed, tampered, stripped and damaged texts.
//
// c2pa's WASM build has no text/plain asset handler, but its Reader reads a manifest store on
// its own ("application/c2pa", as the Python side does): c2pa judges signature, trust and
// assertions, and reports the data hash as unverifiable (it has no text to hash). This module
// finds the wrapper, hands its manifest store to c2pa, and checks the c2pa.hash.data binding
// over the text itself (WebCrypto), putting the code it earns in place of c2pa's.
"use strict";

const MAGIC = [0x43, 0x32, 0x50, 0x41, 0x54, 0x58, 0x54, 0x00]; // "C2PATXT\0"
const VERSION = 1;
const HEADER = MAGIC.length + 1 + 4;
const BOM = "\ufeff";

export const CORRUPTED = "manifest.text.corruptedWrapper";
export const MULTIPLE = "manifest.text.multipleWrappers";
export const HASH_MATCH = "assertion.dataHash.match";
export const HASH_MISMATCH = "assertion.dataHash.mismatch";
export const ALG_UNSUPPORTED = "algorithm.unsupported";
// The hash algorithms C2PA 13.1 allows for hard bindings, by their WebCrypto names.
const HASH_ALGORITHMS = { sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" };
// Why a wrapper that starts with the magic cannot be read (WrapperProblem's values).
export const TRUNCATED = "truncated", BAD_VERSION = "version", UNREADABLE = "unreadable", SEVERAL = "multiple";

const selector = (b) => String.fromCodePoint(b < 16 ? 0xfe00 + b : 0xe0100 + b - 16);
// A U+FEFF, the magic's selectors, and the rest of the contiguous selector run (A.8.4.2).
// (matchAll copies the pattern: the shared object's lastIndex never moves.)
const CANDIDATE_SOURCE = BOM + MAGIC.map(selector).join("") + "[\\u{FE00}-\\u{FE0F}\\u{E0100}-\\u{E01EF}]*";
const CANDIDATE = new RegExp(CANDIDATE_SOURCE, "gu");
const OPENS_WITH_CANDIDATE = new RegExp("^" + CANDIDATE_SOURCE, "u");

const utf8 = new TextEncoder();
const utf8Len = (s) => utf8.encode(s).length;

// The bytes of a selector run, and after how many UTF-16 units each byte ends (indexes here are
// JavaScript string indexes; the UTF-8 offsets the binding names are computed from them).
function decode(run) {
  const bytes = [], ends = [0];
  let at = 0;
  for (const ch of run) {
    const cp = ch.codePointAt(0);
    bytes.push(cp < 0xe0100 ? cp - 0xfe00 : cp - 0xe0100 + 16);
    at += ch.length;
    ends.push(at);
  }
  return { bytes: Uint8Array.from(bytes), ends };
}

// Every C2PA text wrapper: a U+FEFF whose selectors decode to the magic. A U+FEFF followed by
// other selectors is text, not a manifest; selectors after the declared length in the same run
// are padding. {start, stop, runStop, manifestStore | null, problem | null}.
export function* iterWrappers(text) {
  for (const m of text.matchAll(CANDIDATE)) {
    const start = m.index, body = start + 1, end = start + m[0].length;
    const { bytes, ends } = decode(m[0].slice(1));
    const damaged = (problem) => ({ start, stop: end, runStop: end, manifestStore: null, problem });
    if (bytes.length < HEADER) { yield damaged(TRUNCATED); continue; }
    if (bytes[8] !== VERSION) { yield damaged(BAD_VERSION); continue; }
    const length = ((bytes[9] << 24) >>> 0) + (bytes[10] << 16) + (bytes[11] << 8) + bytes[12];
    if (bytes.length < HEADER + length) { yield damaged(TRUNCATED); continue; }
    yield { start, stop: body + ends[HEADER + length], runStop: end, manifestStore: bytes.slice(HEADER, HEADER + length), problem: null };
  }
}

// The hash a Reader's crJSON gives as "b64'...'" (or plain base64), as bytes.
function hashBytes(value) {
  const b64 = String(value || "").replace(/^b64'|'$/g, "");
  try {
    const bin = atob(b64);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch { return new Uint8Array(); }
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// The code the c2pa.hash.data assertion earns over `text` (as stored, not NFC): C2PA 2.4,
// 15.12.1.3.1 steps 5-7 (which A.8.5 names as normative): remove the excluded bytes from the text
// as stored, then NFC-normalise what remains, encode it as UTF-8 and hash it. The exclusion must
// start at the wrapper's U+FEFF and cover the wrapper, plus any padding selectors after it.
export async function bindingMatches(text, wrapper, binding, claimAlg) {
  const alg = binding.alg || claimAlg || "sha256";
  if (!(alg in HASH_ALGORITHMS)) return ALG_UNSUPPORTED;
  const start = utf8Len(text.slice(0, wrapper.start));
  const least = start + utf8Len(text.slice(wrapper.start, wrapper.stop));
  const most = least + utf8Len(text.slice(wrapper.stop, wrapper.runStop));
  const exclusions = binding.exclusions || [];
  if (exclusions.length !== 1) return HASH_MISMATCH;
  const { start: first, length } = exclusions[0] || {};
  if (first !== start || !Number.isInteger(length) || !(least <= start + length && start + length <= most)) return HASH_MISMATCH;
  const raw = utf8.encode(text);
  const keptBytes = new Uint8Array(raw.length - length);
  keptBytes.set(raw.subarray(0, start));
  keptBytes.set(raw.subarray(start + length), start);
  let kept;
  try { kept = new TextDecoder("utf-8", { fatal: true }).decode(keptBytes); } catch { return HASH_MISMATCH; }
  const digest = new Uint8Array(await crypto.subtle.digest(HASH_ALGORITHMS[alg], utf8.encode(kept.normalize("NFC"))));
  return same(hashBytes(binding.hash), digest) ? HASH_MATCH : HASH_MISMATCH;
}

// `text` with its leading BOM dropped, or with one added; null if that would open a wrapper.
function bomVariant(text) {
  if (text.startsWith(BOM)) {
    return OPENS_WITH_CANDIDATE.test(text) ? null : text.slice(1);
  }
  return BOM + text;
}

// The manifest in `text` judged by c2pa plus the text binding; null if there is none.
// readManifestStore(bytes) gives {report (the Reader's JSON), crJson, state} or throws when c2pa cannot
// parse the manifest store. Returns {report, state, bindingCodes, problem, renormalised}.
export async function readTextManifest(text, readManifestStore) {
  let first = null;
  const readable = [];
  for (const w of iterWrappers(text)) {
    first = first || w;
    if (w.manifestStore) {
      readable.push(w);
      if (readable.length > 1) return { report: null, state: "Invalid", bindingCodes: [MULTIPLE], problem: SEVERAL, renormalised: false };
    }
  }
  if (first === null) return null;
  if (!readable.length) return { report: null, state: "Invalid", bindingCodes: [CORRUPTED], problem: first.problem, renormalised: false };
  // A damaged decoy beside a readable wrapper cannot hide it (as in c2patxt).
  const wrapper = readable[0];
  let opened;
  try { opened = await readManifestStore(wrapper.manifestStore); } catch {
    return { report: null, state: "Invalid", bindingCodes: [CORRUPTED], problem: UNREADABLE, renormalised: false };
  }
  const { report, crJson, state } = opened;
  const active = (crJson.manifests || []).find((m) => m.label === report.active_manifest) || {};
  const binding = (active.assertions || {})["c2pa.hash.data"] || {};
  const claimAlg = (active["claim.v2"] || active.claim || {}).alg;
  let code = await bindingMatches(text, wrapper, binding, claimAlg);
  const other = code === HASH_MISMATCH ? bomVariant(text) : null;
  if (other !== null) {
    // The same text with a byte-order mark an editor added, or a reader dropped, after signing.
    const shift = other.length - text.length;
    const moved = { ...wrapper, start: wrapper.start + shift, stop: wrapper.stop + shift, runStop: wrapper.runStop + shift };
    code = await bindingMatches(other, moved, binding, claimAlg);
  }
  let renormalised = false;
  const nfc = text.normalize("NFC");
  if (code === HASH_MISMATCH && nfc !== text) {
    const readableNfc = [...iterWrappers(nfc)].filter((w) => w.manifestStore);
    renormalised = readableNfc.length === 1 && (await bindingMatches(nfc, readableNfc[0], binding, claimAlg)) === HASH_MATCH;
  }
  return { report, state, bindingCodes: [code], problem: null, renormalised };
}
