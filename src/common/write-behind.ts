/**
 * Writes behind the caller: what is added is written together `ms` later, or at flush(). Batches are
 * taken when the write is due and written one at a time, in order; a write that fails does not stop
 * the ones after it (the writer decides what a failure means for its batch).
 */
export class WriteBehind<B> {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly ms: number,
    /** Hands over what was added since the last call, and starts afresh. */
    private readonly take: () => B,
    private readonly write: (batch: B) => Promise<void>,
  ) {}

  /** Something was added: it is written within `ms`. */
  schedule(): void {
    this.timer ??= setTimeout(() => void this.flush(), this.ms);
  }

  /** Writes everything added so far; resolves once it is written. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.take();
    const done = this.chain.then(() => this.write(batch));
    this.chain = done.catch(() => undefined);
    return done;
  }
}
