#!/usr/bin/env node
// `tracer dump --json` done with dcmjs: DicomMessage.readFile on each file, its dict (already
// DICOM JSON-shaped: PN as objects, DS/IS as numbers) cleaned into PS3.18 F.2 JSON, binary
// values over the threshold as BulkDataURI, printed as one array.
// Usage: node bench/peers/dcmjs-json.mjs [--bulk-threshold N] FILE|DIR...
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import dcmjs from 'dcmjs';
import { BINARY_VRS, expandPaths, parseArgs, writeDocs } from './common.mjs';

dcmjs.log?.setLevel?.('error');
const { threshold, files } = parseArgs(process.argv.slice(2));

function toJSON(dict, url) {
  const out = {};
  for (const key of Object.keys(dict)) {
    const el = dict[key];
    const vr = el.vr;
    const attr = { vr };
    out[key] = attr;
    const v = el.Value;
    if (!v || v.length === 0) continue;
    if (vr === 'SQ') {
      attr.Value = v.map((item) => toJSON(item, url));
      continue;
    }
    if (BINARY_VRS.has(vr)) {
      // One ArrayBuffer / typed array per value (or per fragment for encapsulated data).
      let len = 0;
      for (const part of v) len += part.byteLength;
      if (len === 0) continue;
      if (len > threshold) {
        // dcmjs does not expose value offsets, so the URI names the file and the tag.
        attr.BulkDataURI = `${url}?tag=${key}`;
      } else {
        const parts = v.map((p) => (ArrayBuffer.isView(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : Buffer.from(p)));
        attr.InlineBinary = Buffer.concat(parts).toString('base64');
      }
      continue;
    }
    if (vr === 'AT') {
      attr.Value = v.map((t) => t.toString(16).toUpperCase().padStart(8, '0'));
      continue;
    }
    if (vr === 'PN') {
      // Trailing component delimiters carry nothing (PS3.5 6.2.1.1), as Tracer writes PN.
      attr.Value = v.map((pn) => {
        if (!pn || typeof pn !== 'object') return pn || null;
        const out = {};
        for (const g of ['Alphabetic', 'Ideographic', 'Phonetic']) {
          const s = typeof pn[g] === 'string' ? pn[g].replace(/\^+$/, '') : '';
          if (s) out[g] = s;
        }
        return Object.keys(out).length ? out : null;
      });
      continue;
    }
    attr.Value = v.map((x) => (x === '' || x === undefined ? null : x));
  }
  return out;
}

const docs = [];
let failures = 0;
for (const path of expandPaths(files)) {
  try {
    const buf = readFileSync(path);
    // readFileSync gives large files an ArrayBuffer of their own: no copy needed.
    const ab = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const dicom = dcmjs.data.DicomMessage.readFile(ab, { noCopy: true });
    docs.push(JSON.stringify(toJSON(dicom.dict, pathToFileURL(path).href)));
  } catch (err) {
    console.error(`dcmjs-json: ${path}: ${err.message}`);
    failures++;
  }
}
writeDocs(docs);
process.exitCode = failures ? 1 : 0;
