/**
 * Text that leaves the process — a run failure every member of a tenant reads, a notification, a log
 * line, an error Bull keeps in Redis — never carries a secret or a stack: one short readable line,
 * with bearer and Basic credentials, JWTs, key=value secrets (plain, JSON, URL-encoded), OAuth codes
 * and assertions, credentials in URLs and connection strings and long key-like strings redacted.
 * Every function here runs in linear time: its input may be hostile.
 */

export const MAX_FAILURE_MESSAGE = 200;

const UNKNOWN_ERROR = 'Unknown error';
const NON_ERROR_VALUE = 'Unexpected non-error value';
const REDACTED = '[redacted]';
const ELLIPSIS = '…';

/**
 * A line is cut to this many UTF-16 units before any pattern runs, and every pattern below runs in time
 * linear in its line, so a hostile megabyte costs what its length does. Far above what survives
 * truncation, so for a failure message it only bounds the work.
 */
const MAX_SCAN = 4000;

const LINE_BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/;
/** The same, kept in `split`'s output so `redactSecrets` puts every line break back as it was. */
const LINE_BREAK_KEPT = new RegExp(`(${LINE_BREAK.source})`);
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
 * bare form needs a path character so a time of day (`at 10:30:45`) is not taken for a frame; its path
 * is read segment by segment, each ending at a separator, so the engine never tries two ways of
 * splitting one path (a long `./././…` line made the plain `\S*[./]\S*` quadratic).
 */
const STACK_FRAME =
  /(?:^|\s)at\s+(?:async\s+)?(?:(?:new\s+)?[^\s()]+(?:\s+\[as\s+[^\s\]]+\])?\s+\((?:[^()]*:\d+:\d+|<anonymous>|native|index\s+\d+)\)|(?:[^\s()./\\]*[./\\])+[^\s()./\\]*:\d+:\d+)/;
/** A line of a multi-line stack that is a frame: where the message, which may span lines, ends. */
const FRAME_LINE = /^\s*at\s/;

const HTML_TAG = /<[A-Za-z!/?][^<>]*>/g;
const TAG_START = /<[A-Za-z!/?]/;
const TAG_STARTS = /<(?=[A-Za-z!/?])/g;
/** Removing one tag can join the halves of another (`<scr<b>ipt>`); real markup needs two or three passes. */
const MAX_TAG_PASSES = 4;

/**
 * Words that name a secret. A key counts when it is one, ends in one after a separator (`db_password`,
 * `x-api-key`, `client_assertion`), or is one of the joined spellings SDKs use (`clientSecret`,
 * `APIKEY`, `AccountKey`). Words no English word ends in may follow any prefix (`dbpassword`,
 * `appsecret`); `key` and `sig` may not (`monkey`, `turkey`). The pattern starts where the key does:
 * starting at a compound prefix of any length made every `a_a_a_…` line quadratic.
 */
const SECRET_WORD = String.raw`(?:[A-Za-z0-9]*?(?:password|passwd|secret|token)|client_?secret|access_?token|refresh_?token|id_?token|api[_-]?key|account_?key|shared_?access_?(?:key|signature)|(?:client_?)?assertion|authorization|pwd|key|signature|sig)`;
/**
 * The capitalised word that ends a camel-case key (`dbPassword`, `storageAccountKey`, `sasToken`).
 * Matched case-sensitively after a letter or digit, so `monkey` and `turkey` are no keys.
 */
const CAMEL_SECRET_WORD = '(?:Secret|Token|Key|Password|Passwd|Pwd|Signature|Sig|Assertion|Authorization)';
/** Keys and values may be quoted, also JSON-escaped inside a string or URL-encoded (`%22`). */
const QUOTE = String.raw`(?:\\?["']|%22)?`;
/** `=` or `:`, also URL-encoded: a form body is often logged inside a URL (`client_secret%3D…`). */
const SEPARATOR = String.raw`\s*(?:[:=]|%3[ADad])\s*`;
/**
 * A quoted value runs to its closing quote or, when the line or the scan limit cut it, to the end of
 * the line; so does one quoted as `\"…\"` in JSON escaped inside a string, which may hold spaces
 * too. An unquoted one stops at whitespace, `,`, `;`, `&` or an encoded `&` (`%26`). An
 * authorization value keeps its scheme word inside the match so the credential after it goes too.
 */
const VALUE = String.raw`"(?:[^"\\]|\\.)*(?:"|$)|'(?:[^'\\]|\\.)*(?:'|$)|\\"(?:[^\\]|\\(?!"))*(?:\\"|$)|${QUOTE}(?:(?:[Bb]earer|[Bb]asic|[Dd]igest|[Nn]egotiate)\s+)?(?:[^\s,;&"'%]|%(?!26))+`;
/** Quotes a redacted value keeps around it, so JSON stays JSON. */
const QUOTES = ['\\"', '"', "'"];
/** Not inside a word, unless right after a URL-encoded character (`%26password%3D…`). */
const KEY_START = '(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))';

/** `key=value`, `key: value`, JSON `"key":"value"` (also escaped inside a string or URL-encoded). */
const KEY_VALUE = new RegExp(
  String.raw`${KEY_START}(${QUOTE}${SECRET_WORD}${QUOTE}${SEPARATOR})(${VALUE})`,
  'gi',
);
const CAMEL_KEY_VALUE = new RegExp(
  String.raw`(?<=[A-Za-z0-9])(${CAMEL_SECRET_WORD}${QUOTE}${SEPARATOR})(${VALUE})`,
  'g',
);

/**
 * OAuth authorization and device codes (`?code=0.AXoA…&state=…`, `"code":"…"`). `code` also names
 * error and status codes, so it counts only where a query string, form, object or header list starts
 * a key (after `?`, `&`, `#`, `;`, `{`, `,`, `(`, whitespace or the start, also URL-encoded), and even
 * there a value that reads as a diagnostic code stays: see `DIAGNOSTIC_CODE`.
 */
const OAUTH_CODE = new RegExp(
  String.raw`(?<=^|[\s?&#;{,(\[]|%3F|%26|%23)(${QUOTE}(?:auth(?:orization)?_?|device_?)?code${QUOTE}${SEPARATOR})(${VALUE})`,
  'gi',
);
/**
 * An error or status code: a number (`403`, `-2147024891`, `0x80070005`), an upper-case name whose
 * parts may end in digits (`ECONNRESET`, `ER_DUP_ENTRY`, `AADSTS7000215`), or words in camel or
 * snake case (`Forbidden`, `itemNotFound`, `Authorization_RequestDenied`, `invalid_grant`). An
 * authorization code is random and 20 or more characters long: it mixes digits into letters or
 * flips case inside a word, so it almost never takes one of these shapes.
 */
const DIAGNOSTIC_CODE =
  /^(?:-?\d{1,10}|0x[0-9A-Fa-f]{1,8}|[A-Z]+\d*(?:_(?:[A-Z]+\d*|\d+))*|[A-Z]?[a-z]+(?:_?[A-Z][a-z]+|_[a-z]+)*)$/;
const MAX_DIAGNOSTIC_CODE = 40;
/** The quotes around a code and the punctuation a sentence puts after it (`(code=ECONNRESET).`). */
const CODE_EDGES = /^(?:\\?["']|%22)|(?:\\?["']|%22)?[.:)\]}]*$/gi;

/** `Server=…;User Id=…;Password=…;`: there a value runs to the next `;` and may hold spaces or braces. */
const CONNECTION_STRING = /;\s*[A-Za-z][A-Za-z0-9 _]*=/;
const CONNECTION_SECRET = new RegExp(
  String.raw`(?<![A-Za-z0-9])(${SECRET_WORD}\s*=\s*)(?:\{(?:[^}]|\}\})*\}|"(?:[^"]|"")*"|'(?:[^']|'')*'|[^;]*)`,
  'gi',
);

/**
 * `scheme://user:pass@host` and `scheme://token@host`. The second branch takes a password holding
 * an unencoded `/` (base64 keys do); whether that is rather `host:443/path@…`, where the `@` belongs
 * to the path, `isHostPortPath` decides. Schemes are short and no password holds `://`, which keeps a
 * line of repeated `a://b:` linear.
 */
const URL_CREDENTIALS =
  /\b([a-z][a-z0-9+.-]{0,31}:\/\/)((?:[^\s/?#@]*@)+|[^\s/?#@:]*:(?:[^\s@:]|:(?!\/\/))*@)/gi;
const PORT_THEN_PATH = /^\d{1,5}[/?#]/;

const BEARER = /\bbearer\s+[^\s,;"']+/gi;
/** `Basic <base64 of user:password>` outside an Authorization header (which KEY_VALUE covers). */
const BASIC = /\bbasic\s+([^\s,;"']+)/gi;
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

const MIN_KEY_LENGTH = 32;
/** `~` and `.` join the charset because Entra ID client secrets contain them (`abc8Q~dEf.GhI…`). */
const KEY_LIKE_RUN = new RegExp(`[A-Za-z0-9+/=_~.-]{${MIN_KEY_LENGTH},}`, 'g');
const GUID = /(?<![0-9A-Za-z])([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9A-Za-z])/i;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function sanitizeMessage(raw: unknown): string {
  for (const line of rawText(raw).split(LINE_BREAK)) {
    const clean = cleanLine(line);
    if (clean) return truncate(clean);
  }
  return UNKNOWN_ERROR;
}

/**
 * The same redaction over a whole text, such as an error's stack for a log line: lines, indentation
 * and stack frames stay, which `sanitizeMessage` drops. A line past MAX_SCAN keeps its head and says
 * how much was cut: at that length it is a dumped payload rather than a diagnosis, and scanning it
 * whole would let one error stall the logger.
 */
export function redactSecrets(text: string): string {
  return text
    .split(LINE_BREAK_KEPT)
    .map((part, i) => (i % 2 === 1 ? part : redactLine(part)))
    .join('');
}

export interface SanitizedError {
  name: string;
  message: string;
  stack?: string;
}

/**
 * A copy of an error that is safe to log or to rethrow to Bull, which keeps `message` and `stack` in
 * Redis and shows them on its board. The stack's header, which repeats the raw message over as many
 * lines as it took, becomes the sanitized name and message; the frames after it stay, redacted, since
 * they are what an engineer reading the log needs.
 */
export function sanitizeError(err: unknown): SanitizedError {
  const message = sanitizeMessage(err);
  if ((typeof err !== 'object' && typeof err !== 'function') || err === null)
    return { name: 'Error', message };
  try {
    const { name: rawName, message: rawMessage, stack } = err as ErrorFields;
    const name = typeof rawName === 'string' && rawName.trim() ? sanitizeMessage(rawName) : 'Error';
    if (typeof stack !== 'string') return { name, message };
    // V8 writes the name alone when the message is empty, and sanitizeMessage then fell back to the name.
    const header = typeof rawMessage === 'string' && rawMessage.trim() ? `${name}: ${message}` : name;
    return { name, message, stack: [header, ...framesOf(stack)].join('\n') };
  } catch {
    return { name: 'Error', message };
  }
}

interface ErrorFields {
  name?: unknown;
  message?: unknown;
  stack?: unknown;
}

/** Frames a log line or a Bull record keeps: where it failed and how it got there, not a whole deep stack. */
const MAX_FRAMES = 20;

function framesOf(stack: string): string[] {
  const lines = stack.split(LINE_BREAK);
  const first = lines.findIndex((line, i) => i > 0 && FRAME_LINE.test(line));
  if (first === -1) return [];
  const frames = lines.slice(first);
  const kept = frames.slice(0, MAX_FRAMES).map(redactLine);
  return frames.length > MAX_FRAMES ? [...kept, `    … ${frames.length - MAX_FRAMES} more frames`] : kept;
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
  let text = withoutControls(line.length > MAX_SCAN ? cutForScan(line) : line);
  const frame = text.search(STACK_FRAME);
  if (frame >= 0) text = text.slice(0, frame);
  text = redact(stripTags(text));
  return text.replace(/\s+/g, ' ').trim();
}

function redactLine(line: string): string {
  if (line.length <= MAX_SCAN) return redact(withoutControls(line));
  const head = cutForScan(line);
  return `${redact(withoutControls(head))}${ELLIPSIS} (${line.length - head.length} characters cut)`;
}

/**
 * Whitespace becomes a space before the other controls are dropped, so `a\tb` stays two words while
 * `pass\0word=` closes up and is still recognised as a key.
 */
function withoutControls(text: string): string {
  return text.replace(ANSI_ESCAPE, '').replace(/\s/g, ' ').replace(INVISIBLE, '');
}

/** Drops the token the cut went through: it may be the first half of a secret no rule would recognise. */
function cutForScan(line: string): string {
  const head = line.slice(0, MAX_SCAN);
  let end = head.length;
  while (end > 0 && !/[\s;,&]/.test(head[end - 1])) end--;
  return end > 0 ? head.slice(0, end) : head;
}

function stripTags(text: string): string {
  let previous: string;
  let passes = 0;
  do {
    previous = text;
    text = text.replace(HTML_TAG, '');
  } while (text !== previous && ++passes < MAX_TAG_PASSES);
  // Nesting deeper than that is built to outlast the loop, not markup: what could open a tag loses its `<`.
  if (text !== previous) text = text.replace(TAG_STARTS, '');
  return withoutDanglingTag(text);
}

/** A tag the first line break or the scan limit cut off before its `>`: an opening after the last `>`. */
function withoutDanglingTag(text: string): string {
  const tail = text.lastIndexOf('>') + 1;
  const open = text.slice(tail).search(TAG_START);
  return open === -1 ? text : text.slice(0, tail + open);
}

/** Order matters: a wider shape goes first so a narrower rule never sees half of a secret it owns. */
function redact(text: string): string {
  let out = text.replace(URL_CREDENTIALS, redactUrlCredentials);
  if (CONNECTION_STRING.test(out)) out = out.replace(CONNECTION_SECRET, `$1${REDACTED}`);
  return out
    .replace(KEY_VALUE, redactValue)
    .replace(CAMEL_KEY_VALUE, redactValue)
    .replace(OAUTH_CODE, redactCode)
    .replace(BASIC, redactBasic)
    .replace(BEARER, `Bearer ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(KEY_LIKE_RUN, redactKeyLike);
}

function redactUrlCredentials(match: string, scheme: string, userinfo: string): string {
  return isHostPortPath(userinfo) ? match : `${scheme}${REDACTED}@`;
}

/**
 * `api.example.com:8443/users/adele@contoso.com`: a host (it has a dot, or is `localhost`), a port and
 * a path. A user name seldom has a dot, so `default:12/AbC+d=@cache` stays a user and a base64 key, and
 * an empty name (`rediss://:/AbC+d=@cache`) is never a host; reading those as ports showed the key.
 */
function isHostPortPath(userinfo: string): boolean {
  const colon = userinfo.indexOf(':');
  if (colon === -1) return false;
  const host = userinfo.slice(0, colon);
  return (
    (host.includes('.') || host.toLowerCase() === 'localhost') &&
    PORT_THEN_PATH.test(userinfo.slice(colon + 1))
  );
}

function redactValue(_match: string, key: string, value: string): string {
  const quote = QUOTES.find(
    (q) => value.length > 2 * q.length - 1 && value.startsWith(q) && value.endsWith(q),
  );
  return quote ? `${key}${quote}${REDACTED}${quote}` : `${key}${REDACTED}`;
}

function redactCode(match: string, key: string, value: string): string {
  return isDiagnosticCode(value) ? match : redactValue(match, key, value);
}

function isDiagnosticCode(value: string): boolean {
  // Quotes and punctuation never double a code's length, and a long value skips the edge scan.
  if (value.length > MAX_DIAGNOSTIC_CODE * 2) return false;
  const code = value.replace(CODE_EDGES, '');
  return code.length <= MAX_DIAGNOSTIC_CODE && DIAGNOSTIC_CODE.test(code);
}

/**
 * A Basic credential is base64 of `user:password`, so it decodes to text with a colon, and it holds
 * digits or `+/=` more often than not; a word after "Basic" in prose (`Basic auth failed`) does neither.
 */
function redactBasic(match: string, credential: string): string {
  const word = credential.replace(/[.!?)\]]+$/, '');
  const prose = /^[A-Za-z]+$/.test(word) && !Buffer.from(word, 'base64').toString('latin1').includes(':');
  return prose ? match : `Basic ${REDACTED}`;
}

/**
 * GUIDs are tenant and policy ids operators need, so they survive inside a run that is otherwise
 * redacted, and so do the slashes and dots around a redacted part, to keep a path or a sentence
 * readable. The length counts those edges: one 32-character base64 key in 32 starts or ends with `/`.
 */
function redactKeyLike(run: string): string {
  return run
    .split(GUID)
    .map((part, i) =>
      i % 2 === 1 || part.length < MIN_KEY_LENGTH
        ? part
        : part.replace(/[^/.](?:.*[^/.])?/s, (core) => (isKeyLike(core) ? REDACTED : core)),
    )
    .join('');
}

/**
 * Random rather than words: upper and lower case both frequent (random base64 flips case
 * every other character, an identifier such as `deviceManagementConfigurationPolicyTemplates` once a
 * word), or letters mixed with digits in anything but a path of words. Demanding a digit alone let
 * one 32-character base64 key in about 230 through whole.
 */
function isKeyLike(part: string): boolean {
  let upper = 0;
  let lower = 0;
  let digits = 0;
  for (const char of part) {
    if (char >= 'A' && char <= 'Z') upper++;
    else if (char >= 'a' && char <= 'z') lower++;
    else if (char >= '0' && char <= '9') digits++;
  }
  const letters = upper + lower;
  if (letters === 0) return false;
  return Math.min(upper, lower) * 4 >= letters || (digits > 0 && !isWordPath(part));
}

/**
 * `beta/deviceManagement/configurationPolicies/42/settings`, `graph.microsoft.com/v1.0/users`: every
 * segment is a word with at most a trailing number. A random key with a `/` almost never splits that way.
 */
function isWordPath(part: string): boolean {
  return /[/.]/.test(part) && part.split(/[/.]/).every((segment) => /^[A-Za-z_-]*\d*$/.test(segment));
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

/**
 * A request path as a log may hold it: single-use link tokens (`/invite/<token>`) are secrets in the
 * path itself, and a query string may carry a token or password a client put there by mistake.
 */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  const masked = url.replace(/(\/invite\/)[^/?#]+/g, '$1[REDACTED]');
  const q = masked.indexOf('?');
  if (q < 0) return masked;
  return (
    masked.slice(0, q + 1) +
    masked
      .slice(q + 1)
      .replace(/((?:^|&)[^=&]*(?:token|password|secret|key|code)[^=&]*=)[^&]*/gi, '$1[REDACTED]')
  );
}
