/** Tells a lost database or Redis connection apart from a bug, so users get a 503 rather than a 500. */
const DB_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_SERVER_SHUTDOWN',
  'EHOSTUNREACH',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
]);

export function isDatabaseUnavailable(e: unknown): boolean {
  const err = e as { code?: string; driverError?: { code?: string }; name?: string; message?: string };
  const code = err?.driverError?.code ?? err?.code;
  if (code && DB_CODES.has(code)) return true;
  return (
    err?.name === 'ConnectionIsNotSetError' ||
    // (better-sqlite3 says the last when its file was closed under it: a shutdown, say.)
    /Pool is closed|connect ECONNREFUSED .*:3306|The database connection is not open/.test(err?.message ?? '')
  );
}

export function isRedisUnavailable(e: unknown): boolean {
  const err = e as { code?: string; message?: string; name?: string };
  return (
    err?.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|connect ECONNREFUSED .*:\d+|Stream isn't writeable|enableOfflineQueue/i.test(
      err?.message ?? '',
    )
  );
}
