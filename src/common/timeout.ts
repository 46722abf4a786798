/** The rejection of withTimeout when its time is up. */
export class TimedOut extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * `p`, or a TimedOut rejection with `message` once `ms` have passed without an answer (the timer is
 * cleared either way). The work behind `p` is not cancelled: a late answer is ignored.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new TimedOut(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
