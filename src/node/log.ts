/**
 * Structured logging: one event per line, readable text on a terminal or JSON for machines.
 * Every event has a level, a short message and fields (peer, association, SOP Instance UID...)
 * so that logs say what happened and where (SYS-031, STOR-070).
 */
import { fstatSync, writeSync } from 'node:fs';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type LogFields = Record<string, unknown>;

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  trace(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every event (e.g. the association id). */
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  /** Where lines go (default: stderr). */
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const max = ORDER[opts.level ?? 'info'];
  const format = opts.format ?? 'text';
  const write = opts.write ?? writeStderr;
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] > max) return;
    const time = new Date().toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, level, msg, ...base, ...fields }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
      return;
    }
    // The order of `{ ...base, ...fields }`: a field given in both is printed once, in the
    // logger's place, with the event's value.
    let line = `${time} ${LEVEL_TEXT[level]} ${msg}`;
    for (const k in base) line += field(k, fields && Object.hasOwn(fields, k) ? fields[k] : base[k]);
    if (fields) for (const k in fields) if (!Object.hasOwn(base, k)) line += field(k, fields[k]);
    write(line);
  };
  return {
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    trace: (m, f) => emit('trace', m, f),
    child: (f) => createLogger(opts, { ...base, ...f }),
    enabled: (l) => ORDER[l] <= max,
  };
}

const LEVEL_TEXT: Record<LogLevel, string> = { error: 'ERROR', warn: 'WARN ', info: 'INFO ', debug: 'DEBUG', trace: 'TRACE' };

/** ` key=value` of the text format ('' for an undefined value): strings bare when unambiguous, else JSON. */
function field(k: string, v: unknown): string {
  if (v === undefined) return '';
  return ` ${k}=${typeof v === 'string' && v !== '' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`;
}

/**
 * Writes a line to stderr. When stderr is a regular file (a service's log, a benchmark), straight
 * to its descriptor: the stream around it costs as much again as formatting the line (an info
 * line per C-STORE). Writes to stderr are synchronous on Linux either way (Node's process I/O
 * notes); a terminal, pipe or socket keeps the stream, which handles their non-blocking
 * descriptors.
 */
function writeStderr(line: string): void {
  stderrIsFile ??= isRegularFile(2);
  if (stderrIsFile) {
    try {
      writeSync(2, line + '\n');
      return;
    } catch {
      stderrIsFile = false; // whatever it was, the stream reports it from now on
    }
  }
  process.stderr.write(line + '\n');
}

let stderrIsFile: boolean | undefined;

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });
