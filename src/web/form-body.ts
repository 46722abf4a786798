import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../common/app-error';

export interface FormLimits {
  /** Largest body read at all; a bigger one is refused from its Content-Length, before it is read. */
  maxBytes: string;
  /** Most fields one form may carry (a large policy selection is one field repeated). */
  maxFields: number;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * Form bodies parsed in one linear pass. The stock urlencoded parser (qs) merges repeated keys by
 * copying the array each time: 50,000 keys cost a process ~50 s of CPU before any guard runs.
 * URLSearchParams decodes in linear time, repeated keys are collected into an array as they come,
 * and the field count is checked before any decoding at all.
 */
export function formBody(limits: FormLimits): RequestHandler {
  const readText = express.text({ type: FORM, limit: limits.maxBytes });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.is(FORM)) return next();
    readText(req, res, (err?: unknown) => {
      if (err) return next(err);
      const text = typeof req.body === 'string' ? req.body : '';
      if (countFields(text, limits.maxFields) > limits.maxFields) {
        return next(
          new AppError(
            'payload_too_large',
            `This form has more than ${limits.maxFields.toLocaleString('en-US')} fields, so it was not read. Select fewer items, or narrow the search and use "select all matching".`,
          ),
        );
      }
      req.body = parseForm(text);
      next();
    });
  };
}

/** Fields in a urlencoded text, counted up to `cap + 1` (enough to refuse it). */
export function countFields(text: string, cap: number): number {
  if (!text) return 0;
  let n = 1;
  for (let i = text.indexOf('&'); i !== -1 && n <= cap; i = text.indexOf('&', i + 1)) n++;
  return n;
}

/** Fields by name; a name given more than once holds all its values, in order. No prototype to pollute. */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = out[key];
    if (seen === undefined) out[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[key] = [seen, value];
  }
  return out;
}
