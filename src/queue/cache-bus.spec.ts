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

  it('reads several keys at once: the kept ones from the cache, the rest in one load, only those kept', async () => {
    const s = setup();
    const loads: number[][] = [];
    const names = new Map([
      [1, 'Ada'],
      [2, 'Bo'],
      [3, 'Cy'],
    ]);
    const many = (ids: number[]) =>
      s.cache.getMany(ids, async (missing) => {
        loads.push(missing);
        return new Map(missing.filter((id) => names.has(id)).map((id) => [id, names.get(id)!.length]));
      });
    expect([...(await many([1, 2, 9]))]).toEqual([
      [1, 3],
      [2, 2],
    ]);
    names.set(1, 'Adelheid');
    s.bus.deliver('topic', [2]);
    expect([...(await many([1, 2, 3, 9]))].sort()).toEqual([
      [1, 3],
      [2, 2],
      [3, 2],
    ]);
    // 1 was kept; 2 was invalidated; 9 is unknown, so it is asked for again.
    expect(loads).toEqual([
      [1, 2, 9],
      [2, 3, 9],
    ]);
  });

  it('keeps nothing without a bus (a process with no Redis)', async () => {
    const cache = new BusCache<number>(undefined, 'topic');
    let reads = 0;
    const load = async () => ++reads;
    await cache.get(1, '', load);
    expect(await cache.get(1, '', load)).toBe(2);
  });
});
