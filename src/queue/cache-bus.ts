import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

type Key = string | number;
type Handler = (keys: Key[] | 'all') => void;

/** A cached value is re-read at least this often even when no invalidation reached this process. */
const BACKSTOP_MS = 10_000;
/** How long an announcement waits for a connection still being made (then it is given up). */
const PUBLISH_WAIT_MS = 1_500;
/** How long invalidateSoon gathers keys before the other processes hear of them (in one message). */
const SOON_MS = 5;

/**
 * Invalidation across processes for the small per-request caches of web processes (a user's unread
 * count, a tenant's chart counters, a user's saved views). A change is announced on a Redis channel
 * after it is stored; every process drops the named keys of that topic when the message arrives.
 *
 * Caches are used only while this process is subscribed: when Redis is away (or before the
 * subscription is confirmed) every read goes to the database, and each (re)subscription starts from
 * empty caches, so a message missed during an outage never leaves a stale value behind. A value is
 * also re-read after BACKSTOP_MS whatever happens.
 */
@Injectable()
export class CacheBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('CacheBus');
  private readonly channel: string;
  private readonly origin = randomBytes(6).toString('hex');
  private readonly handlers = new Map<string, Set<Handler>>();
  private sub: Redis | undefined;
  private pub: Redis | undefined;
  private subscribed = false;
  private warned = false;
  private startedAt = 0;
  /**
   * This process's announcements: numbered as sent, `announced` the newest Redis accepted (one that
   * failed is never heard, so it is not waited for), and the newest heard from each other process.
   */
  private numbered = 0;
  private announced = 0;
  private readonly heard = new Map<string, number>();
  /** invalidateSoon's keys not published yet, by topic. */
  private soon = new Map<string, Set<Key> | 'all'>();
  private soonTimer: NodeJS.Timeout | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.channel = `${config.redisPrefix}:cache-invalidate`;
  }

  onModuleInit(): void {
    if (!this.config.redisUrl) return;
    this.startedAt = Date.now();
    const options = {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: 1000,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    this.sub = new Redis(this.config.redisUrl, { ...options, connectionName: 'cache-bus-sub' });
    this.pub = new Redis(this.config.redisUrl, { ...options, connectionName: 'cache-bus-pub' });
    for (const c of [this.sub, this.pub]) c.on('error', () => undefined);
    this.sub.on('ready', () => {
      this.sub!.subscribe(this.channel).then(
        () => {
          // Whatever changed while this process was not listening: start from nothing.
          this.dropAll();
          this.subscribed = true;
        },
        () => this.lost(),
      );
    });
    this.sub.on('close', () => this.lost());
    this.sub.on('message', (_channel: string, raw: string) => this.receive(raw));
    void this.sub.connect().catch(() => undefined);
    void this.pub.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flushSoon();
    this.subscribed = false;
    this.sub?.disconnect();
    this.pub?.disconnect();
  }

  /** Caches may serve values now: invalidations from every process reach this one. */
  get live(): boolean {
    return this.subscribed;
  }

  /**
   * Whether this process has heard every announcement `other` made so far (both on one Redis). Redis
   * hands a message to every subscriber as it publishes it, but each process reads it when its turn
   * comes: a check "in the other process at once" waits for this first.
   */
  hasHeardAllOf(other: CacheBus): boolean {
    return (this.heard.get(other.origin) ?? 0) >= other.announced;
  }

  /** Calls `handler` with the keys of `topic` that changed anywhere ('all' when everything may have). */
  on(topic: string, handler: Handler): void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
  }

  /**
   * Announces that these keys of `topic` changed (after the change is stored): this process drops
   * them at once, the others when the message arrives.
   */
  async invalidate(topic: string, keys: Key[] | 'all'): Promise<void> {
    if (keys !== 'all' && !keys.length) return;
    this.deliver(topic, keys);
    await this.publish(topic, keys);
  }

  /**
   * As invalidate, for changes that come in bursts (every step of every run): this process drops the
   * keys at once, the others hear of them within SOON_MS, in one message per topic for all the keys
   * changed meanwhile.
   */
  invalidateSoon(topic: string, keys: Key[] | 'all'): void {
    if (keys !== 'all' && !keys.length) return;
    this.deliver(topic, keys);
    if (!this.pub) return;
    const pending = this.soon.get(topic);
    if (keys === 'all' || pending === 'all') this.soon.set(topic, 'all');
    else {
      const set = pending ?? new Set<Key>();
      for (const k of keys) set.add(k);
      this.soon.set(topic, set);
    }
    this.soonTimer ??= setTimeout(() => void this.flushSoon(), SOON_MS);
  }

  private async flushSoon(): Promise<void> {
    clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
    const batch = this.soon;
    this.soon = new Map();
    await Promise.all(
      [...batch].map(([topic, keys]) => this.publish(topic, keys === 'all' ? 'all' : [...keys])),
    );
  }

  /** Tells the other processes (best effort: if they cannot hear it, their copies expire). */
  private async publish(topic: string, keys: Key[] | 'all'): Promise<void> {
    if (!this.pub) return;
    try {
      // A short-lived process (the CLI) may announce before its connection is up: wait a moment for it.
      // (Only then: a process whose Redis went away later does not make every change wait.)
      if (this.pub.status !== 'ready' && Date.now() - this.startedAt < PUBLISH_WAIT_MS)
        await this.pubReady(PUBLISH_WAIT_MS - (Date.now() - this.startedAt));
      const n = ++this.numbered;
      await this.pub.publish(this.channel, JSON.stringify({ o: this.origin, n, t: topic, k: keys }));
      this.announced = Math.max(this.announced, n);
    } catch (e) {
      // Others cannot hear of this change; their copies expire within BACKSTOP_MS.
      if (!this.warned) this.logger.warn({ err: e }, 'could not announce a cache invalidation');
      this.warned = true;
    }
  }

  private pubReady(ms: number): Promise<void> {
    const pub = this.pub!;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pub.off('ready', done);
        pub.off('error', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      // Ready, or refused (nobody listens there: no use waiting out the rest).
      pub.once('ready', done);
      pub.once('error', done);
    });
  }

  private receive(raw: string): void {
    try {
      const m = JSON.parse(raw) as { o: string; n: number; t: string; k: Key[] | 'all' };
      if (m.o === this.origin) return;
      this.deliver(m.t, m.k);
      if (typeof m.n === 'number') {
        // Each process start is a new origin: past a thousand, forget those of long-gone processes.
        if (this.heard.size >= 1_000 && !this.heard.has(m.o)) this.heard.clear();
        this.heard.set(m.o, Math.max(this.heard.get(m.o) ?? 0, m.n));
      }
    } catch {
      this.dropAll();
    }
  }

  private deliver(topic: string, keys: Key[] | 'all'): void {
    for (const h of this.handlers.get(topic) ?? []) h(keys);
  }

  private dropAll(): void {
    for (const set of this.handlers.values()) for (const h of set) h('all');
  }

  private lost(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    this.dropAll();
  }
}

/**
 * A small per-process cache of one topic's values, served only while the CacheBus is live and
 * dropped key by key when the bus says they changed. A value read while an invalidation of its key
 * arrived is not kept (it may predate the change).
 */
export class BusCache<V> {
  /** By invalidation key, then by variant (detail). */
  private readonly values = new Map<string, Map<string, { v: V; at: number }>>();
  private readonly generation = new Map<string, number>();
  private cleared = 0;

  /** Without a bus (a process with no Redis, such as the CLI) nothing is kept: every read loads. */
  constructor(
    private readonly bus: CacheBus | undefined,
    readonly topic: string,
    private readonly maxKeys = 10_000,
    /** How long a value may be served at most, invalidated or not (at most the bus's backstop). */
    private readonly ttlMs = BACKSTOP_MS,
    /** Variants kept per key; past this many, that key's are dropped and kept afresh. */
    private readonly maxVariants = 64,
  ) {
    bus?.on(topic, (keys) => {
      if (keys === 'all') {
        this.values.clear();
        this.generation.clear();
        this.cleared++;
        return;
      }
      if (this.generation.size > this.maxKeys) this.generation.clear();
      for (const k of keys) {
        this.values.delete(String(k));
        this.generation.set(String(k), (this.generation.get(String(k)) ?? 0) + 1);
      }
    });
  }

  private get live(): boolean {
    return this.bus?.live === true;
  }

  /** The value of `key` (an invalidation key; `detail` tells its variants apart), cached or from `load`. */
  async get(key: Key, detail: string, load: () => Promise<V>): Promise<V> {
    if (!this.live) return load();
    const k = String(key);
    const hit = this.fresh(k, detail);
    if (hit) return hit.v;
    const mark = this.mark(k);
    const v = await load();
    this.keep(k, detail, v, mark);
    return v;
  }

  /**
   * The values of several keys at once: the cached ones, and the rest from one `load` of those
   * missing (a key `load` does not answer is not in the result, and not kept).
   */
  async getMany<K extends Key>(keys: K[], load: (missing: K[]) => Promise<Map<K, V>>): Promise<Map<K, V>> {
    const out = new Map<K, V>();
    const live = this.live;
    const missing = keys.filter((key) => {
      const hit = live ? this.fresh(String(key), '') : undefined;
      if (hit) out.set(key, hit.v);
      return !hit;
    });
    if (!missing.length) return out;
    const marks = missing.map((key) => this.mark(String(key)));
    const loaded = await load(missing);
    missing.forEach((key, i) => {
      if (!loaded.has(key)) return;
      const v = loaded.get(key)!;
      out.set(key, v);
      this.keep(String(key), '', v, marks[i]);
    });
    return out;
  }

  private fresh(k: string, detail: string): { v: V; at: number } | undefined {
    const hit = this.values.get(k)?.get(detail);
    return hit && Date.now() - hit.at < Math.min(this.ttlMs, BACKSTOP_MS) ? hit : undefined;
  }

  /** Where the invalidations of `k` stood when a read of it began. */
  private mark(k: string): { gen: number; cleared: number } {
    return { gen: this.generation.get(k) ?? 0, cleared: this.cleared };
  }

  /** Keeps what was read, unless something said `k` changed while it was read. */
  private keep(k: string, detail: string, v: V, mark: { gen: number; cleared: number }): void {
    if (!this.live || mark.cleared !== this.cleared || mark.gen !== (this.generation.get(k) ?? 0)) return;
    let variants = this.values.get(k);
    if (!variants) {
      if (this.values.size >= this.maxKeys) this.values.clear();
      this.values.set(k, (variants = new Map()));
    }
    if (variants.size >= this.maxVariants) variants.clear();
    variants.set(detail, { v, at: Date.now() });
  }
}

/** The CacheBus for every module (one Redis subscription per process). */
@Global()
@Module({ providers: [CacheBus], exports: [CacheBus] })
export class CacheBusModule {}
