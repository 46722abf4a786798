import { Injectable } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import pino from 'pino';
import { sanitizeError } from './redact';

/** Where the app's log goes: stdout, or (tests) any stream that says whether it is a terminal. */
export interface LogOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * How lines are written: one readable, coloured line each on a terminal; JSON lines otherwise (CI, files,
 * log collectors), which is what anything reading the log parses.
 */
export function logFormat(out: Pick<LogOutput, 'isTTY'>): 'pretty' | 'json' {
  return out.isTTY === true ? 'pretty' : 'json';
}

let lastWriteAt = 0;

/**
 * Resolves once nothing has been logged for quietMs (at most maxMs from now): start-up work (the demo
 * seed's first syncs, schedules) logs for a moment after the server listens, and the start banner is
 * printed after it so it stays the last thing on the screen.
 */
export async function logQuiet(quietMs: number, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  for (;;) {
    const quietFor = Date.now() - lastWriteAt;
    if (quietFor >= quietMs || Date.now() >= until) return;
    await new Promise((r) => setTimeout(r, Math.min(quietMs - quietFor, until - Date.now()) + 1));
  }
}

/** Lines are written in batches of this many bytes, or after FLUSH_MS, whichever comes first. */
const BATCH_BYTES = 4096;
const FLUSH_MS = 200;
let stdoutDestination: ReturnType<typeof pino.destination> | undefined;

/**
 * stdout for JSON lines, written behind: lines gather until 4 KB or 200 ms (one system call for a
 * score of requests under load, a line within a fifth of a second when it is quiet), and whatever is
 * still buffered is written synchronously when the process exits (pino's own exit hook).
 */
function bufferedStdout(): ReturnType<typeof pino.destination> {
  if (!stdoutDestination) {
    const dest = pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES });
    setInterval(() => {
      try {
        dest.flush();
      } catch {
        // Not open yet, or closing: the next tick or the exit hook writes it.
      }
    }, FLUSH_MS).unref();
    stdoutDestination = dest;
  }
  return stdoutDestination;
}

/** Writes out what the log holds now (before the start banner, so it stays the last thing shown). */
export function flushLog(): Promise<void> {
  const dest = stdoutDestination;
  if (!dest) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      dest.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * The app's pino logger: JSON lines on stdout, or one readable line each on a terminal (logFormat). An
 * error's message and stack may quote tokens and passwords back (providers echo requests): only a
 * sanitized copy and a few safe fields reach the log. Credentials in request or response headers are
 * redacted should anything ever log them.
 */
export function appPino(level: string, out: LogOutput = process.stdout): pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    serializers: { err: logSafeError },
    hooks: {
      streamWrite: (line) => {
        lastWriteAt = Date.now();
        return line;
      },
    },
  };
  if (logFormat(out) === 'json')
    return out === process.stdout ? pino(options, bufferedStdout()) : pino(options, out);
  const colors = !process.env.NO_COLOR;
  return pino(options, {
    write: (line: string) => out.write(`${prettyLine(JSON.parse(line) as LogRecord, colors)}\n`),
  });
}

type LogRecord = Record<string, unknown> & { level: number; time: number; msg?: string };

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '36' },
  30: { name: 'INFO ', color: '32' },
  40: { name: 'WARN ', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '41;97' },
};
/** pino's own fields and the request line's: shown in their place, not as key=value. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'context', 'err']);
const REQUEST_FIELDS = new Set(['method', 'url', 'status', 'responseTime', 'userId', 'tenant']);

/**
 * One log record as one terminal line: time, level, context, message, then its other fields as
 * key=value. The request log's line reads as "GET /admin/t/contoso/operations 200 12.3 ms user 3 contoso".
 * An error adds its message (and, from error level up, its stack on the following lines).
 */
export function prettyLine(rec: LogRecord, colors = true): string {
  const paint = (code: string, text: string) => (colors ? `\x1b[${code}m${text}\x1b[0m` : text);
  const d = new Date(rec.time);
  const time = paint('90', `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`);
  const level = LEVELS[rec.level] ?? { name: String(rec.level).padEnd(5), color: '0' };
  const parts = [time, paint(level.color, level.name)];
  if (rec.msg === 'request completed' && typeof rec.method === 'string') {
    const status = Number(rec.status);
    const statusColor = status >= 500 ? '31' : status >= 400 ? '33' : status >= 300 ? '36' : '32';
    parts.push(
      paint('1', `${rec.method} ${String(rec.url)}`),
      paint(statusColor, String(rec.status)),
      `${String(rec.responseTime)} ms`,
    );
    if (rec.userId !== undefined) parts.push(paint('35', `user ${String(rec.userId)}`));
    if (rec.tenant !== undefined) parts.push(paint('35', String(rec.tenant)));
    parts.push(...fields(rec, (k) => !REQUEST_FIELDS.has(k)));
    return parts.join(' ');
  }
  if (typeof rec.context === 'string') parts.push(paint('36', `[${rec.context}]`));
  if (rec.msg !== undefined) parts.push(String(rec.msg));
  const err = rec.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err) parts.push(paint('31', `${err.type ?? 'Error'}: ${err.message ?? ''}`));
  parts.push(...fields(rec, () => true));
  const line = parts.join(' ');
  return err?.stack && rec.level >= 50
    ? `${line}\n${paint('90', err.stack.split('\n').slice(1).join('\n'))}`
    : line;
}

function fields(rec: LogRecord, keep: (key: string) => boolean): string[] {
  return Object.entries(rec)
    .filter(([k, v]) => !SHOWN.has(k) && keep(k) && v !== undefined)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`,
    );
}

/** The app's pino logger, for what writes its own lines (the request log). */
export const APP_PINO = Symbol('APP_PINO');

/** Nest's own start-up chatter (one line per module and route) is debug detail, not news. */
const FRAMEWORK_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

@Injectable()
export class AppLogger extends Logger {
  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams[optionalParams.length - 1];
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) {
      super.debug(message, ...optionalParams);
      return;
    }
    super.log(message, ...optionalParams);
  }
}

/**
 * What a log line keeps of an error: its sanitized name, message and stack, and the fields that
 * classify it. Never the rest of its properties (drivers and HTTP clients hang requests, headers and
 * configuration, credentials included, on their errors).
 */
export function logSafeError(err: unknown): Record<string, unknown> {
  const safe = sanitizeError(err);
  const out: Record<string, unknown> = { type: safe.name, message: safe.message };
  if (safe.stack) out.stack = safe.stack;
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    for (const key of ['code', 'reasonCode', 'status', 'statusCode', 'errno']) {
      const v = e[key];
      if (typeof v === 'number' || (typeof v === 'string' && /^[\w.-]{1,40}$/.test(v))) out[key] = v;
    }
  }
  return out;
}
