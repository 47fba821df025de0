#!/usr/bin/env node
// `tracer dump --json` done with dicom-parser: parseDicom on each file, then a walk over its
// elements producing PS3.18 F.2 JSON (text split and trimmed, numbers decoded, PN as
// objects, binary values over the threshold as BulkDataURI with offset and length, as
// Tracer makes them), printed as one array. Group 0002 is left out, as Tracer does.
// Usage: node bench/peers/dicom-parser-json.mjs [--bulk-threshold N] FILE|DIR...
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import dicomParser from 'dicom-parser';
import { BINARY_VRS, NUMBER_TEXT_VRS, SINGLE_TEXT_VRS, expandPaths, parseArgs, writeDocs } from './common.mjs';

const { threshold, files } = parseArgs(process.argv.slice(2));
const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);

function numbers(ds, el, size, read) {
  const out = [];
  const n = Math.floor(el.length / size);
  for (let i = 0; i < n; i++) out.push(read.call(ds.byteArrayParser, ds.byteArray, el.dataOffset + i * size));
  return out;
}

function values(ds, el, vr) {
  const p = ds.byteArrayParser;
  switch (vr) {
    case 'US': return numbers(ds, el, 2, p.readUint16);
    case 'SS': return numbers(ds, el, 2, p.readInt16);
    case 'UL': return numbers(ds, el, 4, p.readUint32);
    case 'SL': return numbers(ds, el, 4, p.readInt32);
    case 'FL': return numbers(ds, el, 4, p.readFloat);
    case 'FD': return numbers(ds, el, 8, p.readDouble);
    case 'AT': {
      const out = [];
      for (let i = 0; i + 4 <= el.length; i += 4) {
        const g = p.readUint16(ds.byteArray, el.dataOffset + i), e = p.readUint16(ds.byteArray, el.dataOffset + i + 2);
        out.push((g * 0x10000 + e).toString(16).toUpperCase().padStart(8, '0'));
      }
      return out;
    }
  }
  if (TEXT_VRS.has(vr)) {
    const text = dicomParser.readFixedString(ds.byteArray, el.dataOffset, el.length);
    if (SINGLE_TEXT_VRS.has(vr)) return [text.replace(/ +$/, '')];
    return text.split('\\').map((s) => {
      const t = s.trim();
      if (t === '') return null;
      if (vr === 'PN') {
        // Trailing component delimiters carry nothing (PS3.5 6.2.1.1), as Tracer writes PN.
        const a = t.replace(/\^+$/, '');
        return a ? { Alphabetic: a } : null;
      }
      if (NUMBER_TEXT_VRS.has(vr)) {
        const n = Number(t);
        return Number.isFinite(n) ? n : t;
      }
      return t;
    });
  }
  return [];
}

function toJSON(ds, url, top) {
  const out = {};
  for (const key in ds.elements) {
    if (top && key.startsWith('x0002')) continue;
    const el = ds.elements[key];
    const tag = key.slice(1).toUpperCase();
    const vr = el.vr ?? 'UN';
    const attr = { vr };
    out[tag] = attr;
    if (el.items) {
      if (el.items.length) attr.Value = el.items.map((it) => toJSON(it.dataSet, url, false));
      continue;
    }
    if (el.length === 0) continue;
    if (el.encapsulatedPixelData || BINARY_VRS.has(vr)) {
      if (el.encapsulatedPixelData || el.length > threshold) {
        attr.BulkDataURI = `${url}?offset=${el.dataOffset}&length=${el.length}`;
      } else {
        attr.InlineBinary = Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset, el.length).toString('base64');
      }
      continue;
    }
    const v = values(ds, el, vr);
    if (v.length) attr.Value = v;
  }
  return out;
}

const docs = [];
let failures = 0;
for (const path of expandPaths(files)) {
  try {
    const buf = readFileSync(path);
    const ds = dicomParser.parseDicom(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    docs.push(JSON.stringify(toJSON(ds, pathToFileURL(path).href, true)));
  } catch (err) {
    console.error(`dicom-parser-json: ${path}: ${err.message ?? err.exception ?? err}`);
    failures++;
  }
}
writeDocs(docs);
process.exitCode = failures ? 1 : 0;
