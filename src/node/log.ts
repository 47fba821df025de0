/**
 * Structured logging: one event per line, readable text on a terminal or JSON for machines.
 * Every event has a level, a short message and fields (peer, association, SOP Instance UID...)
 * so that logs say what happened and where (SYS-031, STOR-070).
 */
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
  const write = opts.write ?? ((l: string) => process.stderr.write(l + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] > max) return;
    const all = { ...base, ...fields };
    const time = new Date().toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, level, msg, ...all }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
      return;
    }
    const kv = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) && v !== '' ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${kv ? ' ' + kv : ''}`);
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

/** A logger that drops everything (library default). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });
