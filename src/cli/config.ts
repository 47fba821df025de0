/** `tracer config`: print the embedded defaults, or check a configuration file. */
import { stringify } from 'yaml';
import { defaultConfig, loadConfig } from '../node/config.js';
import { parse } from './args.js';

const HELP = `Usage: tracer config --defaults [--json]
       tracer config --check FILE

  --defaults     print the complete default configuration (YAML, or JSON with --json)
  --check FILE   validate a configuration file (JSON or YAML) and print it with defaults filled in
  --json         print JSON instead of YAML
  -h, --help     show this help`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { defaults: { type: 'boolean' }, check: { type: 'string' }, json: { type: 'boolean' } }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  if (!v.defaults && !v.check) throw new Error(`need --defaults or --check FILE\n${HELP}`);
  const cfg = v.check ? loadConfig(v.check) : defaultConfig();
  process.stdout.write(v.json ? JSON.stringify(cfg, null, 2) + '\n' : stringify(cfg));
  return 0;
}
