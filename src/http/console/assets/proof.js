// Checks a record's inclusion proof in the browser, trusting nothing the server says about it: the
// leaf's hash is recomputed, the path hashed up to a root (RFC 9162 2.1.3.2), the root compared with
// the signed checkpoint's, and the checkpoint's Ed25519 signature checked (C2SP signed-note), all with
// WebCrypto. A classic script (the page's CSP allows scripts from /ui/assets/ only) that also runs
// under Node for its tests: MayflyProof.verifyInclusion takes the proof JSON and the record's text.
(function (global) {
  'use strict';

  async function sha256(bytes) {
    return new Uint8Array(await global.crypto.subtle.digest('SHA-256', bytes));
  }

  function concat(parts) {
    const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  function fromBase64(text) {
    const binary = global.atob(text);
    return Uint8Array.from(binary, (character) => character.charCodeAt(0));
  }

  const equal = (a, b) => a.length === b.length && a.every((byte, index) => byte === b[index]);

  // RFC 9162 2.1.1: a leaf is hashed with a 0x00 prefix, an interior node with 0x01.
  const leafHash = (leaf) => sha256(concat([Uint8Array.of(0), leaf]));
  const nodeHash = (left, right) => sha256(concat([Uint8Array.of(1), left, right]));

  /** RFC 9162 2.1.3.2: the root the proof leads to from leaf `index` of a tree of `size`, or null when it cannot. */
  async function rootFromInclusionProof(index, size, hash, path) {
    if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return null;
    let fn = index;
    let sn = size - 1;
    let r = hash;
    for (const p of path) {
      if (p.length !== 32 || sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  /** A signed note (C2SP signed-note): its signed text, and its checkpoint's origin, size and root. */
  function parseCheckpoint(note) {
    const split = note.indexOf('\n\n');
    if (split < 0) return null;
    const body = note.slice(0, split + 1);
    const lines = body.split('\n');
    const size = /^[0-9]+$/.test(lines[1] || '') ? Number(lines[1]) : NaN;
    const signatures = note
      .slice(split + 2)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line))
      .filter(Boolean)
      .map((match) => ({ name: match[1], signature: fromBase64(match[2]) }));
    if (!lines[0] || !Number.isSafeInteger(size) || !lines[2]) return null;
    return { body, origin: lines[0], size, root: fromBase64(lines[2]), signatures };
  }

  /** Whether `key` (raw Ed25519) signed the note under `name`; 'unsupported' when this browser has no Ed25519. */
  async function noteSigned(checkpoint, name, key) {
    // The signature carries a key id: SHA-256(name || 0x0A || 0x01 || key)[0:4], then 64 signature bytes.
    const keyId = (await sha256(concat([new TextEncoder().encode(name + '\n'), Uint8Array.of(1), key]))).slice(0, 4);
    const line = checkpoint.signatures.find((candidate) => candidate.name === name && equal(candidate.signature.slice(0, 4), keyId));
    if (!line || line.signature.length !== 68) return false;
    let publicKey;
    try {
      publicKey = await global.crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
    } catch (error) {
      return 'unsupported';
    }
    return global.crypto.subtle.verify({ name: 'Ed25519' }, publicKey, line.signature.slice(4), new TextEncoder().encode(checkpoint.body));
  }

  /**
   * Verifies `proof` (GET /v1/audit/proof/<serial>) for the record whose stored text is `recordText`.
   * Resolves { verified: boolean, message }.
   */
  async function verifyInclusion(proof, recordText) {
    const fail = (message) => ({ verified: false, message });
    const leaf = fromBase64(proof.leaf);
    if (recordText !== undefined && new TextDecoder().decode(leaf) !== recordText) return fail('the proof is for other bytes than this record');
    const checkpoint = parseCheckpoint(proof.checkpoint);
    if (!checkpoint) return fail('the checkpoint is not a signed note');
    if (checkpoint.origin !== proof.origin) return fail(`the checkpoint is for ${checkpoint.origin}, not ${proof.origin}`);
    if (checkpoint.size !== proof.tree_size) return fail(`the checkpoint covers ${checkpoint.size} records, the proof ${proof.tree_size}`);
    const root = await rootFromInclusionProof(proof.leaf_index, proof.tree_size, await leafHash(leaf), proof.inclusion_proof.map(fromBase64));
    if (!root) return fail('the inclusion proof does not fit the tree');
    if (!equal(root, checkpoint.root)) return fail('the inclusion proof leads to another root than the checkpoint’s');
    const signed = await noteSigned(checkpoint, proof.key_name, fromBase64(proof.public_key));
    if (signed === false) return fail(`the checkpoint is not signed by ${proof.key_name}`);
    const signature = signed === 'unsupported' ? 'its signature was not checked (this browser has no Ed25519)' : `signed by ${proof.key_name}`;
    return { verified: true, message: `Included: record ${proof.leaf_index + 1} of the ${proof.tree_size} under checkpoint ${checkpoint.origin}, ${signature}.` };
  }

  global.MayflyProof = { verifyInclusion, rootFromInclusionProof, parseCheckpoint };

  if (typeof document === 'undefined') return;
  document.addEventListener('DOMContentLoaded', async () => {
    const section = document.getElementById('proof');
    const status = document.getElementById('proof-status');
    if (!section || !status) return;
    const show = (state, message) => {
      status.dataset.state = state;
      status.textContent = message;
    };
    show('checking', 'Checking the inclusion proof…');
    try {
      const response = await fetch(`/ui/proof/${encodeURIComponent(section.dataset.serial)}`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      const answer = await response.json();
      if (response.status === 409) return show('unsealed', `Not yet under a checkpoint: ${answer.message}`);
      if (!response.ok) return show('unavailable', `No proof: ${answer.message}`);
      const result = await verifyInclusion(answer, document.getElementById('record-body').textContent);
      show(result.verified ? 'verified' : 'failed', result.verified ? result.message : `NOT VERIFIED: ${result.message}`);
    } catch (error) {
      show('unavailable', `The proof could not be checked: ${error.message}`);
    }
  });
})(globalThis);
