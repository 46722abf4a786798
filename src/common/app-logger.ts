import { Injectable } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import pino from 'pino';
import { sanitizeError } from './redact';

/**
 * The app's pino logger: JSON lines on stdout. An error's message and stack may quote tokens and
 * passwords back (providers echo requests): only a sanitized copy and a few safe fields reach the
 * log. Credentials in request or response headers are redacted should anything ever log them.
 */
export function appPino(level: string): pino.Logger {
  return pino({
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    serializers: { err: logSafeError },
  });
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
