export interface ScalingCheck<T> {
  /** The work measured; called once per sample on each input. */
  run: (input: T) => void;
  small: T;
  large: T;
  /** Most the large input may cost, as a multiple of the small one's cost. */
  limit: number;
  /** Added to the bound, so a sub-millisecond small cost does not make the bound meaningless. */
  slackMs?: number;
}

export interface ScalingMeasure {
  smallMs: number;
  largeMs: number;
  boundMs: number;
}

/** Wall-clock milliseconds `run` took. */
export function millis(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * The best of seven samples per input, taken in turn (small, large, small, …) so that load on a shared
 * machine falls on both sides alike; up to three tries, each measured anew. A linear cost passes with
 * room to spare; a cost that grows with the square of the input misses every try, since its ratio does
 * not depend on the machine's load.
 */
export function measureScaling<T>(check: ScalingCheck<T>): ScalingMeasure {
  const slack = check.slackMs ?? 2;
  check.run(check.large); // warm-up: compiled patterns, inline caches
  let measured: ScalingMeasure = { smallMs: 0, largeMs: Infinity, boundMs: 0 };
  for (let attempt = 0; attempt < 3 && measured.largeMs >= measured.boundMs; attempt++) {
    let smallMs = Infinity;
    let largeMs = Infinity;
    for (let sample = 0; sample < 7; sample++) {
      smallMs = Math.min(
        smallMs,
        millis(() => check.run(check.small)),
      );
      largeMs = Math.min(
        largeMs,
        millis(() => check.run(check.large)),
      );
    }
    measured = { smallMs, largeMs, boundMs: check.limit * smallMs + slack };
  }
  return measured;
}
