/** `tracer store`: being built (issue "DICOM networking"). */
export async function run(_argv: string[]): Promise<number> {
  console.error('tracer store: not built yet');
  return 2;
}
