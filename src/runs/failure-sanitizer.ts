/**
 * A run's failure entries are shown to every member of the tenant and kept with the run, so a raw
 * provider or driver error never reaches them: a reason from a closed catalogue plus one short,
 * readable line with no stack and no secrets. Raw errors belong in the log only.
 */

export const REASON_CODES = [
  'not_found',
  'permission_denied',
  'credentials_invalid',
  'provider_throttled',
  'provider_unavailable',
  'validation_failed',
  'baseline_missing',
  'timeout',
  'worker_lost',
  'queue_unavailable',
  'cancelled',
  'unexpected_error',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

/** Reasons worth another attempt of a job: the provider or the network may recover by then. */
export const TRANSIENT_REASONS: ReadonlySet<ReasonCode> = new Set([
  'provider_throttled',
  'provider_unavailable',
  'timeout',
]);

export function isReasonCode(x: unknown): x is ReasonCode {
  return typeof x === 'string' && (REASON_CODES as readonly string[]).includes(x);
}

export const REASON_LABELS: Record<ReasonCode, string> = {
  not_found: 'Not found',
  permission_denied: 'Permission denied',
  credentials_invalid: 'Credentials invalid',
  provider_throttled: 'Provider throttled the request',
  provider_unavailable: 'Provider unavailable',
  validation_failed: 'Validation failed',
  baseline_missing: 'Baseline missing',
  timeout: 'Timed out',
  worker_lost: 'Worker lost',
  queue_unavailable: 'Queue unavailable',
  cancelled: 'Cancelled',
  unexpected_error: 'Unexpected error',
};

export interface RunFailure {
  item_id: string | null;
  reason_code: ReasonCode;
  message: string;
  /** ISO-8601 UTC */
  at: string;
}

export const MAX_FAILURE_MESSAGE = 200;
export const MAX_FAILURES_PER_RUN = 100;

const UNKNOWN_ERROR = 'Unknown error';
const NON_ERROR_VALUE = 'Unexpected non-error value';
const REDACTED = '[redacted]';
const ELLIPSIS = '…';

/**
 * Some patterns below backtrack on long unbroken input; a line is cut to this many UTF-16 units
 * before they run. Far above what survives truncation, so it only bounds the work.
 */
const MAX_SCAN = 4000;

const LINE_BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/;
// eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point here
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
/**
 * Control characters, lone surrogates, and invisible format characters that can reorder or hide
 * text when rendered (bidi overrides, zero-width space) or split a key name so redaction misses it.
 * ZWJ/ZWNJ stay: emoji sequences and several scripts need them.
 */
const INVISIBLE = /[\p{Cc}\p{Cs}\u00AD\u061C\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069]/gu;

/**
 * A V8 stack frame glued onto the message (`… at fn (/app/x.js:1:2)`, `… at /app/x.js:1:2`). The
 * bare form needs a path character so a time of day (`at 10:30:45`) is not taken for a frame.
 */
const STACK_FRAME =
  /(?:^|\s)at\s+(?:async\s+)?(?:(?:new\s+)?[^\s()]+(?:\s+\[as\s+[^\]]+\])?\s+\((?:[^()]*:\d+:\d+|<anonymous>|native|index\s+\d+)\)|[^\s()]*[./\\][^\s()]*:\d+:\d+)/;

const HTML_TAG = /<[A-Za-z!/?][^<>]*>/g;
/** A tag the first line break or the scan limit cut off before its `>`. */
const DANGLING_TAG = /<[A-Za-z!/?][^>]*$/;

/**
 * Key names whose value is a secret, also as the last part of a compound name (`db_password`,
 * `x-api-key`, `sas_token`) and in the joined spellings SDKs use (`clientSecret`, `AccountKey`).
 */
const SECRET_KEY = String.raw`(?:[A-Za-z0-9]+[_.-])*(?:client_?secret|access_?token|refresh_?token|id_?token|api[_-]?key|account_?key|shared_?access_?(?:key|signature)|authorization|password|passwd|pwd|secret|token|key|signature|sig)`;

/**
 * `key=value`, `key: value`, JSON `"key":"value"` (also JSON escaped inside a string). An
 * authorization value keeps its scheme word inside the match so the credential after it goes too.
 */
const KEY_VALUE = new RegExp(
  String.raw`(?<![A-Za-z0-9])(\\?["']?${SECRET_KEY}\\?["']?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\\?["']?(?:(?:bearer|basic|digest|negotiate)\s+)?[^\s,;&"']+)`,
  'gi',
);

/** `Server=…;User Id=…;Password=…;`: there a value runs to the next `;` and may hold spaces or braces. */
const CONNECTION_STRING = /;\s*[A-Za-z][A-Za-z0-9 _]*=/;
const CONNECTION_SECRET = new RegExp(
  String.raw`(?<![A-Za-z0-9])(${SECRET_KEY}\s*=\s*)(?:\{(?:[^}]|\}\})*\}|"(?:[^"]|"")*"|'(?:[^']|'')*'|[^;]*)`,
  'gi',
);

/**
 * `scheme://user:pass@host` and `scheme://token@host`. The second branch takes a password holding
 * an unencoded `/` (base64 keys do), but not `host:443/path@…`, where the `@` belongs to the path.
 */
const URL_CREDENTIALS =
  /\b([a-z][a-z0-9+.-]*:\/\/)(?:(?:[^\s/?#@]*@)+|[^\s/?#@:]*:(?!\d*(?:[/?#\s]|$))[^\s@]*@)/gi;

const BEARER = /\bbearer\s+[^\s,;"']+/gi;
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** `~` joins the charset because Entra ID client secrets contain it. */
const KEY_LIKE_RUN = /[A-Za-z0-9+/=_~-]{32,}/g;
const GUID = /(?<![0-9A-Za-z])([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9A-Za-z])/i;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function sanitizeMessage(raw: unknown): string {
  for (const line of rawText(raw).split(LINE_BREAK)) {
    const clean = cleanLine(line);
    if (clean) return truncate(clean);
  }
  return UNKNOWN_ERROR;
}

function rawText(raw: unknown): string {
  if (raw === null || raw === undefined) return '';
  if (typeof raw !== 'object' && typeof raw !== 'function') return String(raw);
  try {
    // Duck-typed: errors from another realm (vm contexts, Jest, some drivers) fail `instanceof Error`.
    const { message, name } = raw as { message?: unknown; name?: unknown };
    if (typeof message === 'string' && message.trim()) return message;
    if (raw instanceof Error || typeof message === 'string') return typeof name === 'string' ? name : '';
    return NON_ERROR_VALUE;
  } catch {
    return NON_ERROR_VALUE;
  }
}

function cleanLine(line: string): string {
  let text = line.length > MAX_SCAN ? cutForScan(line) : line;
  // Whitespace becomes a space before the other controls are dropped, so `a\tb` stays two words
  // while `pass\0word=` closes up and is still recognised as a key.
  text = text.replace(ANSI_ESCAPE, '').replace(/\s/g, ' ').replace(INVISIBLE, '');
  const frame = text.search(STACK_FRAME);
  if (frame >= 0) text = text.slice(0, frame);
  text = redact(stripTags(text));
  return text.replace(/\s+/g, ' ').trim();
}

/** Drops the token the cut went through: it may be the first half of a secret no rule would recognise. */
function cutForScan(line: string): string {
  const head = line.slice(0, MAX_SCAN);
  let end = head.length;
  while (end > 0 && !/[\s;,&]/.test(head[end - 1])) end--;
  return end > 0 ? head.slice(0, end) : head;
}

function stripTags(text: string): string {
  // Repeated until stable: removing one tag can join the halves of another (`<scr<b>ipt>`).
  let previous: string;
  do {
    previous = text;
    text = text.replace(HTML_TAG, '');
  } while (text !== previous);
  return text.replace(DANGLING_TAG, '');
}

/** Order matters: a wider shape goes first so a narrower rule never sees half of a secret it owns. */
function redact(text: string): string {
  let out = text.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  if (CONNECTION_STRING.test(out)) out = out.replace(CONNECTION_SECRET, `$1${REDACTED}`);
  return out
    .replace(KEY_VALUE, redactValue)
    .replace(BEARER, `Bearer ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(KEY_LIKE_RUN, redactKeyLike);
}

function redactValue(_match: string, key: string, value: string): string {
  const quote = value[0];
  const quoted = (quote === '"' || quote === "'") && value.length > 1 && value.endsWith(quote);
  return quoted ? `${key}${quote}${REDACTED}${quote}` : `${key}${REDACTED}`;
}

/**
 * GUIDs are tenant and policy ids operators need, so they survive inside a run that is otherwise
 * redacted, and so do the slashes around a redacted part, to keep a path readable.
 */
function redactKeyLike(run: string): string {
  return run
    .split(GUID)
    .map((part, i) =>
      i % 2 === 1 ? part : part.replace(/[^/](?:.*[^/])?/s, (core) => (isKeyLike(core) ? REDACTED : core)),
    )
    .join('');
}

function isKeyLike(part: string): boolean {
  return part.length >= 32 && /\d/.test(part) && /[A-Za-z]/.test(part) && !isWordPath(part);
}

/**
 * `beta/deviceManagement/configurationPolicies/42/settings`: every segment is a word with at most a
 * trailing number. A random key with a `/` almost never splits that way.
 */
function isWordPath(part: string): boolean {
  return part.includes('/') && part.split('/').every((segment) => /^[A-Za-z_-]*\d*$/.test(segment));
}

function truncate(text: string): string {
  const points = Array.from(text);
  if (points.length <= MAX_FAILURE_MESSAGE) return text;
  const budget = MAX_FAILURE_MESSAGE - ELLIPSIS.length;
  // Cut between graphemes so an emoji sequence or a letter's accents are kept or dropped whole.
  let kept = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = Array.from(segment).length;
    if (used + size > budget) break;
    kept += segment;
    used += size;
  }
  // One grapheme can outgrow the whole budget (hundreds of stacked combining marks).
  if (!kept) kept = points.slice(0, budget).join('');
  return `${kept.trimEnd()}${ELLIPSIS}`;
}

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN']);
const STATUS_REASONS = new Map<number, ReasonCode>([
  [400, 'validation_failed'],
  [401, 'permission_denied'],
  [403, 'permission_denied'],
  [404, 'not_found'],
  [422, 'validation_failed'],
  [429, 'provider_throttled'],
  [502, 'provider_unavailable'],
  [503, 'provider_unavailable'],
  [504, 'provider_unavailable'],
]);
/** Bounds the walk down `cause`, which may be cyclic. */
const MAX_CAUSE_DEPTH = 5;

interface ErrorShape {
  reasonCode?: unknown;
  reason_code?: unknown;
  code?: unknown;
  name?: unknown;
  status?: unknown;
  statusCode?: unknown;
  cause?: unknown;
}

/**
 * A wrapper error (`new Error('Sync failed', { cause })`) says nothing about why; when the outer
 * error is not recognised, its causes are asked in turn.
 */
export function classifyError(err: unknown): ReasonCode {
  try {
    let current = err;
    for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
      const reason = reasonOf(current as ErrorShape);
      if (reason) return reason;
      current = (current as ErrorShape).cause;
    }
  } catch {
    // A throwing getter or proxy tells nothing more than an unknown shape does.
  }
  return 'unexpected_error';
}

function reasonOf(e: ErrorShape): ReasonCode | undefined {
  // `code` counts when it is already a catalogue code, as AppError's `not_found`/`queue_unavailable` are.
  const declared = [e.reasonCode, e.reason_code, e.code].find(isReasonCode);
  if (declared) return declared;
  if (typeof e.code === 'string') {
    if (TIMEOUT_CODES.has(e.code)) return 'timeout';
    if (UNREACHABLE_CODES.has(e.code)) return 'provider_unavailable';
  }
  if (e.name === 'TimeoutError') return 'timeout';
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  return typeof status === 'number' ? STATUS_REASONS.get(status) : undefined;
}

export function toFailure(input: {
  itemId?: string | number | null;
  error?: unknown;
  reasonCode?: string;
  message?: string;
  at?: Date;
}): RunFailure {
  // Recording a failure must not itself fail, so an invalid date falls back to now instead of throwing.
  const at = input.at && !Number.isNaN(input.at.getTime()) ? input.at : new Date();
  return {
    item_id: input.itemId === undefined || input.itemId === null ? null : String(input.itemId),
    reason_code: isReasonCode(input.reasonCode) ? input.reasonCode : classifyError(input.error),
    message: sanitizeMessage(input.message ?? input.error),
    at: at.toISOString(),
  };
}

/** The earliest failures are kept: they are usually the cause, the rest often its echo. */
export function appendFailures(
  existing: RunFailure[],
  omitted: number,
  incoming: RunFailure[],
): { failures: RunFailure[]; omitted: number } {
  const all = [...existing, ...incoming];
  const failures = all.slice(0, MAX_FAILURES_PER_RUN);
  return { failures, omitted: omitted + all.length - failures.length };
}

/**
 * `omitted` is taken so callers pass a run's stored pair as is, but it is not counted: entries left
 * out were never kept, so their reasons are unknown.
 */
export function digestFailures(
  failures: RunFailure[],
  _omitted: number,
): Array<{ reason_code: ReasonCode; label: string; count: number; sample: string }> {
  const groups = new Map<
    ReasonCode,
    { reason_code: ReasonCode; label: string; count: number; sample: string }
  >();
  for (const failure of failures) {
    // Entries come back from a JSON column and may predate a catalogue change.
    const code = isReasonCode(failure.reason_code) ? failure.reason_code : 'unexpected_error';
    const group = groups.get(code);
    if (group) group.count++;
    else
      groups.set(code, { reason_code: code, label: REASON_LABELS[code], count: 1, sample: failure.message });
  }
  // The sort is stable, so equal counts keep the order in which their reasons first appeared.
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
