/**
 * Resolving the peer of an SCU command: a registered node name (REQUIREMENTS 2.2) or HOST PORT
 * (VER-003: usable without configuring the node), with --aet/--aec overrides and --config.
 */
import { adHocNode, defaultConfig, findNode, loadConfig, type NodeConfig, type TracerConfig } from '../node/config.js';
import { DEFAULT_CALLED_AE, DEFAULT_CALLING_AE, type Destination } from '../services/scu-connection.js';
import { UsageError, type Values } from './args.js';

export interface Peer {
  config: TracerConfig;
  /** The node entry: the registered one, or an ad hoc one with every default (SEND/ASSOC options). */
  node: NodeConfig;
  destination: Destination;
  callingAETitle: string;
  /** Positionals left after the peer (files, for store). */
  rest: string[];
  registered: boolean;
}

function portOf(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Reads --config, --aet, --aec and the leading NODE or HOST PORT positionals. */
export function resolvePeer(values: Values, positionals: string[], help: string): Peer {
  const config = values.config ? loadConfig(values.config as string) : defaultConfig();
  const [first, second, ...more] = positionals;
  if (first === undefined) throw new UsageError(`missing peer: give HOST PORT or a node name\n${help}`);
  const registered = findNode(config, first);
  let node: NodeConfig;
  let rest: string[];
  if (registered) {
    node = { ...registered };
    rest = positionals.slice(1);
  } else {
    const port = portOf(second);
    if (port === undefined) {
      const known = config.nodes.map((n) => n.name).join(', ');
      throw new UsageError(`'${first}' is not a registered node${known ? ` (known: ${known})` : ''} and '${second ?? ''}' is not a port number (1-65535)\n${help}`);
    }
    // Every node option at its default; --aec is checked below with the option's name.
    node = adHocNode({ name: 'command-line', aeTitle: DEFAULT_CALLED_AE, host: first, port });
    rest = more;
  }
  if (values.aec) node.aeTitle = values.aec as string;
  const callingAETitle = (values.aet as string | undefined) ?? (values.config ? config.localAEs[0]?.aeTitle : undefined) ?? DEFAULT_CALLING_AE;
  for (const [opt, v] of [['--aet', callingAETitle], ['--aec', node.aeTitle]] as const) {
    if (!/^(?=.*[^ ])[ -[\]-~]{1,16}$/.test(v)) throw new UsageError(`${opt} '${v}' is not a valid AE title (1-16 characters of the default repertoire, no backslash)`);
  }
  return { config, node, destination: { host: node.host, port: node.port, aeTitle: node.aeTitle, name: registered ? node.name : undefined }, callingAETitle, rest, registered: !!registered };
}

/** Parses a non-negative integer option, with the option's name in the error. */
export function intOption(values: Values, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = values[name] as string | undefined;
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got '${v}'`);
  return Number(v);
}

export function numberOption(values: Values, name: string, min = 0): number | undefined {
  const v = values[name] as string | undefined;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new UsageError(`--${name}: expected a number >= ${min}, got '${v}'`);
  return n;
}
