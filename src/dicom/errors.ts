/**
 * Errors of the data layer. Each says what went wrong and where (file and byte offset), so
 * that the CLI can print one line and a user can find the spot with a hex editor.
 */
export class DicomError extends Error {
  override name = 'DicomError';
}

/** Malformed input: the message names the file (when known) and the byte offset. */
export class DicomParseError extends DicomError {
  override name = 'DicomParseError';
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly path?: string,
  ) {
    super(`${path ? path + ': ' : ''}${reason} at byte offset ${offset}`);
  }

  /** The same error attributed to a file, for errors raised below the file layer. */
  withPath(path: string): DicomParseError {
    return this.path ? this : new DicomParseError(this.reason, this.offset, path);
  }
}

/** A thrown value as an Error (a rejection, or a batch's failure reported in its place). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
