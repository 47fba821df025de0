/** `tracer serve`: the DICOM node. The network services are being built (issue 3). */
export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('Usage: tracer serve [--config FILE] [--port N] [--aet TITLE] [--data DIR]\n\nRuns the DICOM node.');
    return 0;
  }
  console.error('tracer serve: the DICOM network services are not built yet (see issue "DICOM networking"); nothing to serve');
  return 2;
}
