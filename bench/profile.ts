import { Session } from 'node:inspector';

export interface ProfileEntry {
  name: string;
  ms: number;
  pct: number;
}

export interface CpuProfileSummary {
  totalMs: number;
  functions: ProfileEntry[];
  /** Self time by where the code lives: a package, a src/ module, Node internals, idle, GC. */
  places: ProfileEntry[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))),
  );
}

function placeOf(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const src = /\/(src|bench)\/([^/]+)/.exec(url);
  if (src) return `${src[1]}/${src[2].replace(/\.ts$/, '')}`;
  if (url.startsWith('node:') || !url) return 'node internals';
  return url;
}

function top(map: Map<string, number>, total: number, n: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms, pct: (ms / total) * 100 }));
}

/** Samples the main thread's CPU while `work` runs: where the app's time goes, as evidence for a miss. */
export async function cpuProfile<T>(
  work: () => Promise<T>,
): Promise<{ result: T; summary: CpuProfileSummary }> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 500 });
    await post(session, 'Profiler.start');
    type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    let result: T;
    let profile: Profile;
    try {
      result = await work();
    } finally {
      profile = (await post<{ profile: Profile }>(session, 'Profiler.stop')).profile;
    }
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const fns = new Map<string, number>();
    const places = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const f = byId.get(id)!.callFrame;
      // The inspector's own dispatch (starting and stopping the profiler) is not the app's time.
      if (f.functionName === 'dispatch' && !f.url) return;
      const where = f.url
        ? `${f.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${f.lineNumber + 1}`
        : '';
      const name = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
      fns.set(name, (fns.get(name) ?? 0) + ms);
      const place = placeOf(f.url, f.functionName);
      places.set(place, (places.get(place) ?? 0) + ms);
      total += ms;
    });
    return {
      result,
      summary: { totalMs: total, functions: top(fns, total, 12), places: top(places, total, 12) },
    };
  } finally {
    session.disconnect();
  }
}
