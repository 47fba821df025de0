/**
 * Option parsing shared by the commands: node's util.parseArgs with a help text, and a
 * one-line error for unknown or malformed options.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses argv; returns undefined after printing help when --help was given. */
/** Option values by name: strings, booleans, or arrays for `multiple` options. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Values = Record<string, any>;

export interface Parsed {
  values: Values;
  positionals: string[];
}

export function parse(argv: string[], options: Options, help: string): Parsed | undefined {
  const all: Options = { ...options, help: { type: 'boolean', short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: all, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}\n${help}`);
  }
  if ((parsed.values as Record<string, unknown>).help) {
    console.log(help);
    return undefined;
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}
