/**
 * Jazzer.js fuzz target for the DICOM reader (built to dist/test/fuzz/reader.fuzz.js, an ES
 * module; run by scripts/fuzz.mjs). Jazzer.js 4 instruments ES modules through a Node module
 * loader hook (module.register, Node >= 20.6); scripts/fuzz.mjs restricts instrumentation to
 * dist/src/dicom, so coverage feedback is the reader, values, charsets, JSON, dump and writer.
 */
import { exercise, installAllocationGuard } from './exercise.js';

/** Inputs are at most 16 KiB (-max_len); no step may allocate more than 64 MiB at once. */
installAllocationGuard(64 * 1024 * 1024);

export function fuzz(data: Buffer): void {
  exercise(data);
}
