/**
 * `tracer` command line: dispatches to one module per command (DCMTK-style thin shells over
 * the library). Every command answers --help; errors are one line on stderr and exit code 1.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Command {
  summary: string;
  run: (args: string[]) => Promise<number>;
}

const commands: Record<string, Command> = {
  dump: { summary: 'list the elements of DICOM files (like dcmdump), or print DICOM JSON', run: async (a) => (await import('./dump.js')).run(a) },
  convert: { summary: 'rewrite a DICOM file in another transfer syntax', run: async (a) => (await import('./convert.js')).run(a) },
  config: { summary: 'print the default configuration, or check a configuration file', run: async (a) => (await import('./config.js')).run(a) },
  echo: { summary: 'verify a DICOM peer (C-ECHO), like echoscu', run: async (a) => (await import('./echo.js')).run(a) },
  store: { summary: 'send DICOM files to a peer (C-STORE), like storescu', run: async (a) => (await import('./store.js')).run(a) },
  find: { summary: 'query a peer (C-FIND), like findscu; a table or DICOM JSON', run: async (a) => (await import('./find.js')).run(a) },
  move: { summary: 'ask a peer to send studies, series or instances to an AE (C-MOVE), like movescu', run: async (a) => (await import('./move.js')).run(a) },
  get: { summary: 'retrieve studies, series or instances into a directory (C-GET), like getscu', run: async (a) => (await import('./get.js')).run(a) },
  render: { summary: 'render a frame to PNG, like dcm2pnm', run: async (a) => (await import('./render.js')).run(a) },
  serve: { summary: 'run the DICOM node (Verification, Storage and Query SCP)', run: async (a) => (await import('./serve.js')).run(a) },
  import: { summary: 'store DICOM files into the local archive (same rules as C-STORE)', run: async (a) => (await import('./import.js')).run(a) },
  delete: { summary: 'delete a patient, study, series or instance from the local archive', run: async (a) => (await import('./delete.js')).run(a) },
  quarantine: { summary: 'list, release into the archive or delete quarantined instances', run: async (a) => (await import('./quarantine.js')).run(a) },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `Usage: tracer <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'tracer <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    console.log(`tracer ${version()}`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`tracer: unknown command '${name}'\n\n${usage()}`);
    return 1;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    console.error(`tracer ${name}: ${(err as Error).message}`);
    return 1;
  }
}
