import { BusCache, CacheBus } from './cache-bus';

/** A bus of one process: what BusCache sees of it (live or not, and the invalidations it delivers). */
class FakeBus {
  live = true;
  private readonly handlers = new Map<string, Array<(keys: Array<string | number> | 'all') => void>>();
  on(topic: string, h: (keys: Array<string | number> | 'all') => void): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), h]);
  }
  deliver(topic: string, keys: Array<string | number> | 'all'): void {
    for (const h of this.handlers.get(topic) ?? []) h(keys);
  }
}

function setup() {
  const bus = new FakeBus();
  const cache = new BusCache<number>(bus as unknown as CacheBus, 'topic');
  let reads = 0;
  let value = 1;
  const load = async () => {
    reads++;
    return value;
  };
  return {
    bus,
    cache,
    load,
    reads: () => reads,
    set: (v: number) => (value = v),
  };
}

describe('BusCache', () => {
  it('reads every time while the bus is not live (Redis away, or not yet subscribed)', async () => {
    const s = setup();
    s.bus.live = false;
    expect(await s.cache.get(7, '', s.load)).toBe(1);
    s.set(2);
    expect(await s.cache.get(7, '', s.load)).toBe(2);
    expect(s.reads()).toBe(2);
  });

  it('keeps a value until its key is invalidated, variants and other keys apart', async () => {
    const s = setup();
    expect(await s.cache.get(7, 'a', s.load)).toBe(1);
    s.set(2);
    expect(await s.cache.get(7, 'a', s.load)).toBe(1);
    expect(await s.cache.get(7, 'b', s.load)).toBe(2);
    expect(await s.cache.get(8, 'a', s.load)).toBe(2);
    expect(s.reads()).toBe(3);
    s.set(3);
    s.bus.deliver('topic', [7]);
    s.bus.deliver('other', [8]);
    expect(await s.cache.get(7, 'a', s.load)).toBe(3);
    expect(await s.cache.get(7, 'b', s.load)).toBe(3);
    expect(await s.cache.get(8, 'a', s.load)).toBe(2);
    s.bus.deliver('topic', 'all');
    expect(await s.cache.get(8, 'a', s.load)).toBe(3);
  });

  it('does not keep a value read while its key was invalidated (it may predate the change)', async () => {
    const s = setup();
    let release!: () => void;
    const slow = () =>
      new Promise<number>((resolve) => {
        release = () => resolve(1);
      });
    const pending = s.cache.get(7, '', slow);
    s.bus.deliver('topic', [7]);
    release();
    expect(await pending).toBe(1);
    s.set(2);
    expect(await s.cache.get(7, '', s.load)).toBe(2);
  });

  it('serves nothing it kept once the bus stops being live', async () => {
    const s = setup();
    await s.cache.get(7, '', s.load);
    s.bus.live = false;
    s.set(5);
    expect(await s.cache.get(7, '', s.load)).toBe(5);
  });
});
