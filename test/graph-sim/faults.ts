import type { GraphSimulator } from './simulator';

/** What happens to a request a fault rule hits. */
export type FaultAction =
  /** An error answer (429, 503, 504, …), with `Retry-After` (seconds) when given. */
  | { kind: 'status'; status: number; retryAfter?: number; code?: string; message?: string }
  /** The socket is destroyed before any answer: the client sees a connection reset. */
  | { kind: 'reset' }
  /** No answer at all, until the client gives up or the simulator stops. */
  | { kind: 'hang' }
  /** 200 with a JSON body cut in half. */
  | { kind: 'malformedJson' }
  /** The normal answer, late. */
  | { kind: 'delay'; ms: number }
  /** The normal answer whose `@odata.nextLink` points at another origin. */
  | { kind: 'foreignNextLink'; origin: string }
  /** The normal answer; for rules that only want their `after` hook. */
  | { kind: 'pass' };

export interface FaultRule {
  /** Default: any method. */
  method?: string;
  /** A glob on the path without query (`*` matches anything, `/` included), or a RegExp tested on path + query. */
  path: string | RegExp;
  /** GUID or verified domain; default any tenant. */
  tenant?: string;
  /** The first matching request affected, counting from 1 (default 1: the next one). */
  nth?: number;
  /** How many matching requests from `nth` on are affected (default 1; `Infinity` for all). */
  times?: number;
  action: FaultAction;
  /**
   * Runs once an affected request has been answered (or its connection reset; never for a hang): a
   * policy deleted between the list and its detail request, data changing between two pages.
   */
  after?: (sim: GraphSimulator) => void;
}

export interface ActiveFault {
  readonly id: number;
  readonly rule: FaultRule;
  /** Matching requests seen so far. */
  seen: number;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** The first rule that affects this request, counting the request against every rule it matches. */
export function matchFault(
  faults: ActiveFault[],
  method: string,
  pathname: string,
  pathAndQuery: string,
  tenantMatches: (tenant: string) => boolean,
): ActiveFault | null {
  let hit: ActiveFault | null = null;
  for (const fault of faults) {
    const { rule } = fault;
    if (rule.method && rule.method.toUpperCase() !== method) continue;
    const pathOk =
      typeof rule.path === 'string' ? globToRegExp(rule.path).test(pathname) : rule.path.test(pathAndQuery);
    if (!pathOk) continue;
    if (rule.tenant && !tenantMatches(rule.tenant)) continue;
    fault.seen++;
    const first = rule.nth ?? 1;
    const last = first + (rule.times ?? 1) - 1;
    if (!hit && fault.seen >= first && fault.seen <= last) hit = fault;
  }
  return hit;
}
