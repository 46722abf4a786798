import type { NavSpec } from './collections';

/** `$expand` as a tree: `a,b($expand=c)` → { a: {}, b: { c: {} } }. */
export type ExpandTree = Map<string, ExpandTree>;

export class ODataQueryError extends Error {}

/** Splits at commas outside parentheses. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) throw new ODataQueryError(`Syntax error at position ${i} in '${text}'.`);
  }
  if (depth !== 0) throw new ODataQueryError(`Syntax error: unbalanced parentheses in '${text}'.`);
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

export function parseExpand(value: string | null): ExpandTree {
  const tree: ExpandTree = new Map();
  if (!value) return tree;
  for (const part of splitTopLevel(value, ',')) {
    const open = part.indexOf('(');
    const name = (open === -1 ? part : part.slice(0, open)).trim();
    let children: ExpandTree = new Map();
    if (open !== -1) {
      if (!part.endsWith(')')) throw new ODataQueryError(`Syntax error in '$expand=${value}'.`);
      for (const option of splitTopLevel(part.slice(open + 1, -1), ';')) {
        const eq = option.indexOf('=');
        if (eq !== -1 && option.slice(0, eq).trim() === '$expand') {
          children = parseExpand(option.slice(eq + 1));
        }
      }
    }
    tree.set(name, children);
  }
  return tree;
}

/** Rejects expansions of properties the entity does not have or the request may not expand. */
export function checkExpand(tree: ExpandTree, nav: NavSpec, allowed: string[], entityType: string): void {
  for (const [name, children] of tree) {
    if (!(name in nav)) {
      throw new ODataQueryError(`Could not find a property named '${name}' on type '${entityType}'.`);
    }
    if (!allowed.includes(name)) {
      throw new ODataQueryError(`Expanding '${name}' is not supported on this request.`);
    }
    const childNav = nav[name].nav ?? {};
    checkExpand(children, childNav, Object.keys(childNav), entityType);
  }
}

/** Navigation properties Graph computes instead of storing (a setting's definitions, from the catalog). */
export type Derived = Record<string, (doc: Record<string, unknown>) => unknown>;

export interface ShapeOptions {
  /** Base of `@odata.context` annotations of expanded properties. */
  contextBase: string;
  select?: string[];
  nulled?: string[];
  derived?: Derived;
}

/**
 * A stored document as Graph returns it: navigation properties only where expanded (each with its own
 * `@odata.context`), the rest as stored.
 */
export function shape(
  doc: Record<string, unknown>,
  nav: NavSpec,
  expand: ExpandTree,
  options: ShapeOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key in nav) continue;
    if (options.select && !options.select.includes(key)) continue;
    out[key] = options.nulled?.includes(key) ? null : value;
  }
  for (const [name, children] of expand) {
    const spec = nav[name];
    const derive = options.derived?.[name];
    const value = derive ? derive(doc) : doc[name];
    const childNav = spec.nav ?? {};
    const childContext = { contextBase: `${options.contextBase}/${name}`, derived: options.derived };
    out[`${name}@odata.context`] = `${options.contextBase}/${name}${spec.single ? '/$entity' : ''}`;
    if (spec.single) {
      out[name] =
        value && typeof value === 'object'
          ? shape(value as Record<string, unknown>, childNav, children, childContext)
          : null;
    } else {
      out[name] = (Array.isArray(value) ? value : []).map((item) =>
        shape(item as Record<string, unknown>, childNav, children, childContext),
      );
    }
  }
  return out;
}
