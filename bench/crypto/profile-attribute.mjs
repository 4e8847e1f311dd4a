// Summarises a CPU profile from profile-setup.ts: each sample is charged to the innermost frame in src/ (the core
// function that called into a library or WebCrypto), with the libraries its time was spent in.
// Usage: node bench/crypto/profile-attribute.mjs PROFILE.cpuprofile [operations in the profile]
import { readFileSync } from 'node:fs';
const prof = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const n = Number(process.argv[3] ?? 1);
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const parent = new Map();
for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const tot = [...self.values()].reduce((a, b) => a + b, 0);
const out = new Map();
const short = (u) => u.replace(/^.*node_modules\//, '').replace(/^.*?\/(?=(src|bench)\/)/, '');
for (const [id, us] of self) {
  const leaf = byId.get(id).callFrame;
  let cur = id, owner;
  while (cur !== undefined) { const cf = byId.get(cur).callFrame; if (/\/src\/(core|platform)\//.test(cf.url)) { owner = `${cf.functionName || '(anon)'} (${short(cf.url)})`; break; } cur = parent.get(cur); }
  const lib = leaf.url ? (short(leaf.url).split('/').slice(0, short(leaf.url).startsWith('@') ? 2 : 1).join('/')) : leaf.functionName;
  const k = owner ?? `[outside src] ${lib}`;
  const e = out.get(k) ?? { us: 0, libs: new Map() };
  e.us += us; e.libs.set(lib, (e.libs.get(lib) ?? 0) + us); out.set(k, e);
}
console.log(`sampled ${(tot / 1000).toFixed(0)} ms = ${(tot / 1000 / n).toFixed(3)} ms per setup`);
for (const [k, e] of [...out].sort((a, b) => b[1].us - a[1].us).slice(0, 40)) {
  const libs = [...e.libs].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([l, v]) => `${l} ${(v / 1000 / n).toFixed(3)}`).join(', ');
  console.log(`${(e.us / 1000 / n).toFixed(3).padStart(7)} ms ${(100 * e.us / tot).toFixed(1).padStart(5)}%  ${k}   [${libs}]`);
}
