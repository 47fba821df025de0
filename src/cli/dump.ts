/** `tracer dump`: dcmdump-like listing, or PS3.18 DICOM JSON with --json. */
import { writeSync } from 'node:fs';
import { JsonWriter, toJSON } from '../dicom/json.js';
import { readDicomFile } from '../dicom/part10.js';
import { transferSyntax } from '../dicom/dictionary/index.js';
import { parse } from './args.js';
import { expandPaths } from './files.js';

const HELP = `Usage: tracer dump [options] FILE|DIR...

Lists the elements of DICOM files (Part 10 files or bare data sets), like dcmdump.

Options:
  --json                 print the data set as DICOM JSON (PS3.18 F.2), one document per file
  --meta                 include the File Meta Information (group 0002)
  --bulk-threshold N     with --json: binary values over N bytes become a file: BulkDataURI
                         (default 1024; 'inline' puts every value inline)
  --max-value N          longest value shown in the listing before "..." (default 64)
  -h, --help             show this help`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    json: { type: 'boolean' },
    meta: { type: 'boolean' },
    'bulk-threshold': { type: 'string' },
    'max-value': { type: 'string' },
  }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  if (parsed.positionals.length === 0) throw new Error(`no file given\n${HELP}`);
  const bt = v['bulk-threshold'] === 'inline' ? Infinity : Number(v['bulk-threshold'] ?? 1024);
  const maxValue = Number(v['max-value'] ?? 64);
  let failures = 0;
  const out = new Output();
  const files = [...expandPaths(parsed.positionals)];
  // The listing code is only loaded for listings.
  const listing = v.json ? undefined : { dumpDataset: (await import('../dicom/dump.js')).dumpDataset };
  // JSON: one file gives the object itself; several an array, still valid JSON. Documents
  // are written as they are made.
  const single = files.length === 1;
  let docs = 0;
  const json = new JsonWriter({ bulkDataThreshold: bt });
  for (const path of files) {
    let file;
    try {
      // Values above the JSON threshold are never read: they become URIs into the file.
      file = readDicomFile(path, { bulkThreshold: Math.min(Number.isFinite(bt) ? bt : 1 << 30, 64 * 1024) });
    } catch (err) {
      console.error(`tracer dump: ${(err as Error).message}`);
      failures++;
      continue;
    }
    try {
      if (!listing) {
        // The document goes straight into the writer's bytes; a failure half-way takes it back.
        const mark = json.length;
        try {
          if (!single) json.ascii(docs === 0 ? '[' : ',\n');
          if (v.meta) {
            const doc = toJSON(file.dataset, { bulkDataThreshold: bt });
            const metaDoc = toJSON(file.meta, { bulkDataThreshold: bt });
            json.text(JSON.stringify({ ...metaDoc, ...doc }));
          } else {
            json.dataset(file.dataset);
          }
          if (single) json.ascii('\n');
        } catch (err) {
          json.truncate(mark);
          throw err;
        }
        docs++;
        if (json.length >= 1 << 18) out.bytes(json.take());
      } else {
        const { dumpDataset } = listing;
        const lines: string[] = [];
        if (files.length > 1) lines.push(`# ${path}`);
        lines.push('# Dicom-File-Format', '');
        if (v.meta !== false && file.meta.size > 0) {
          lines.push('# Dicom-Meta-Information-Header', '# Used TransferSyntax: Little Endian Explicit');
          lines.push(...dumpDataset(file.meta, { maxValueLength: maxValue }), '');
        }
        lines.push('# Dicom-Data-Set', `# Used TransferSyntax: ${transferSyntax(file.transferSyntaxUID)?.name ?? file.transferSyntaxUID}`);
        lines.push(...dumpDataset(file.dataset, { maxValueLength: maxValue }), '');
        out.write(lines.join('\n') + '\n');
      }
    } catch (err) {
      console.error(`tracer dump: ${path}: ${(err as Error).message}`);
      failures++;
    } finally {
      file.source.close();
    }
  }
  if (!listing) {
    if (!(single && docs === 1)) json.ascii(docs === 0 ? '[]\n' : ']\n');
    out.bytes(json.take());
  }
  out.flush();
  return failures > 0 ? 1 : 0;
}

/** Buffered stdout writes: one syscall per 64 KiB rather than per file. */
class Output {
  private parts: string[] = [];
  private size = 0;
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 1 << 16) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    const b = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
    this.bytes(b);
  }
  /** Writes bytes now (after any pending text). */
  bytes(b: Buffer): void {
    if (this.parts.length > 0) this.flush();
    let off = 0;
    while (off < b.length) {
      try {
        off += writeSync(1, b, off, b.length - off);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
        throw err;
      }
    }
  }
}
