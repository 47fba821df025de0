/**
 * Preloaded (node --require) into the Jazzer.js process by scripts/fuzz.mjs.
 *
 * @jazzer.js/fuzzer 4.0.0 ships its libFuzzer addon prebuilt against glibc 2.38 / GCC 13, so on
 * older systems (Debian 12: glibc 2.36, libstdc++ GLIBCXX_3.4.30) dlopen fails with
 * "version `GLIBC_2.38' not found". The only symbols that need the new versions are
 *   __isoc23_strtol / __isoc23_strtoul  (GLIBC_2.38: C23 variants that also accept "0b"),
 *   std::ios_base_library_init()        (GLIBCXX_3.4.32: referenced by <iostream> only to
 *                                         pull in the library's stream initialisation; never called).
 * When, and only when, loading the prebuilt addon fails for that reason, this hook writes a
 * copy (into .fuzz-cache/, gitignored) whose version needs name versions the system has
 * (GLIBC_2.2.5, GLIBCXX_3.4) and whose imports are the classic strtol/strtoul (identical for
 * every input libFuzzer parses: its flags and dictionary) and std::terminate (only referenced),
 * and loads that instead. node_modules is never modified. On a current system nothing happens.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const VERSION_MAP = { 'GLIBC_2.38': 'GLIBC_2.2.5', 'GLIBCXX_3.4.32': 'GLIBCXX_3.4', 'GLIBCXX_3.4.31': 'GLIBCXX_3.4' };
const SYMBOL_MAP = {
  __isoc23_strtol: 'strtol', __isoc23_strtoul: 'strtoul', __isoc23_strtoll: 'strtoll', __isoc23_strtoull: 'strtoull',
  _ZSt21ios_base_library_initv: '_ZSt9terminatev',
};

function elfHash(name) {
  let h = 0;
  for (const c of Buffer.from(name, 'latin1')) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g) h ^= g >>> 24;
    h &= ~g >>> 0;
  }
  return h >>> 0;
}

function cstr(buf, off) {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end);
}

/** Returns a patched copy of an ELF64 little-endian shared object, or throws. */
function patchElf(input) {
  const b = Buffer.from(input);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error('not an ELF64 LE object');
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      type: b.readUInt32LE(o + 4), offset: Number(b.readBigUInt64LE(o + 0x18)), size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28), info: b.readUInt32LE(o + 0x2c),
    });
  }
  const dynsym = sections.find((s) => s.type === 11);
  const verneed = sections.find((s) => s.type === 0x6ffffffe);
  const versym = sections.find((s) => s.type === 0x6fffffff);
  const dynamic = sections.find((s) => s.type === 6);
  if (!dynsym || !verneed || !versym) throw new Error('no dynamic symbol versioning');
  const dynstr = sections[dynsym.link];
  const strOff = (n) => dynstr.offset + n;
  const findStr = (s) => {
    const needle = Buffer.from(`\0${s}\0`, 'latin1');
    const i = b.subarray(dynstr.offset, dynstr.offset + dynstr.size).indexOf(needle);
    if (i < 0) throw new Error(`string ${s} not in .dynstr`);
    return i + 1;
  };
  // Every reference into .dynstr, to make sure no string shares the tail of one we rewrite.
  const refs = new Set();
  const nsym = dynsym.size / 24;
  for (let i = 0; i < nsym; i++) refs.add(b.readUInt32LE(dynsym.offset + i * 24));
  if (dynamic) {
    for (let o = dynamic.offset; o < dynamic.offset + dynamic.size; o += 16) {
      const tag = Number(b.readBigInt64LE(o));
      if ([1, 14, 15, 29].includes(tag)) refs.add(Number(b.readBigUInt64LE(o + 8)));
    }
  }
  // Version needs: re-point the missing versions to old ones of the same library.
  const replaced = new Set();
  let vn = verneed.offset;
  const auxes = [];
  for (let i = 0; i < verneed.info; i++) {
    refs.add(b.readUInt32LE(vn + 4));
    let aux = vn + b.readUInt32LE(vn + 8);
    for (let k = 0; k < b.readUInt16LE(vn + 2); k++) {
      auxes.push(aux);
      refs.add(b.readUInt32LE(aux + 8));
      aux += b.readUInt32LE(aux + 12);
    }
    vn += b.readUInt32LE(vn + 12);
  }
  for (const aux of auxes) {
    const name = cstr(b, strOff(b.readUInt32LE(aux + 8)));
    const to = VERSION_MAP[name];
    if (!to) continue;
    b.writeUInt32LE(elfHash(to), aux);
    b.writeUInt32LE(findStr(to), aux + 8);
    replaced.add(b.readUInt16LE(aux + 6));
  }
  // Symbols bound to those versions get the classic names.
  for (let i = 0; i < nsym; i++) {
    const v = b.readUInt16LE(versym.offset + i * 2) & 0x7fff;
    if (!replaced.has(v)) continue;
    const nameOff = b.readUInt32LE(dynsym.offset + i * 24);
    const name = cstr(b, strOff(nameOff));
    const to = SYMBOL_MAP[name];
    if (!to) throw new Error(`no replacement for ${name}`);
    for (const r of refs) {
      if (r > nameOff && r <= nameOff + name.length) throw new Error(`string ${name} is shared`);
    }
    b.write(`${to}\0`, strOff(nameOff), 'latin1');
  }
  if (replaced.size === 0) throw new Error('nothing to patch');
  return b;
}

function patchedCopy(file) {
  const data = fs.readFileSync(file);
  const digest = crypto.createHash('sha256').update(data).digest('hex').slice(0, 16);
  const dir = path.resolve(__dirname, '..', '..', '.fuzz-cache');
  const out = path.join(dir, `${path.basename(file, '.node')}-${digest}-glibc-compat.node`);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, patchElf(data));
    fs.renameSync(tmp, out);
  }
  return out;
}

const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  try {
    return dlopen.call(this, module, filename, ...rest);
  } catch (err) {
    const missingVersion = /version `(GLIBC|GLIBCXX)_[0-9.]+' not found/.test(String(err && err.message));
    if (!missingVersion || !/@jazzer\.js[\\/]fuzzer[\\/]/.test(String(filename))) throw err;
    return dlopen.call(this, module, patchedCopy(String(filename)), ...rest);
  }
};

module.exports = { patchElf, elfHash };
