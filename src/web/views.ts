import { SetMetadata } from '@nestjs/common';
import hbs from 'hbs';
import { join } from 'node:path';
import { VIEWS_DIR } from '../common/paths';
import { formatNumber, humanDuration, isoTime, percent, relativeTime, utcTime } from './view-helpers';

export const NO_LAYOUT = 'views:no-layout';
/** The route answers with a fragment or a redirect, never the layout (so it needs no bell count). */
export const NoLayout = () => SetMetadata(NO_LAYOUT, true);

let registered: Promise<void> | undefined;

/**
 * Text for HTML, escaped exactly as a `{{value}}` in a template is (Handlebars' own escaper): for the
 * few fragments built in code because a template's per-expression cost showed in profiles.
 */
export function escapeHtml(value: unknown): string {
  return hbs.handlebars.escapeExpression(value as string);
}

/**
 * A display helper of a feature's own (a status label, say), for its templates. Helpers are
 * process-global in hbs; a module registers its own once, at start-up.
 */
export function registerViewHelper(name: string, fn: (...args: unknown[]) => unknown): void {
  hbs.registerHelper(name, fn);
}

/**
 * Helpers and partials are process-global in hbs, so they are registered once. registerPartials reads
 * the folder asynchronously: callers await this before the first render.
 */
export function registerViews(): Promise<void> {
  registered ??= (async () => {
    compileKnowingHelpers();
    hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b || String(a) === String(b));
    hbs.registerHelper('ne', (a: unknown, b: unknown) => String(a) !== String(b));
    hbs.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
    hbs.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
    hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
    hbs.registerHelper('not', (a: unknown) => !a);
    hbs.registerHelper('relTime', (d: unknown) => relativeTime(d));
    // The viewer's time zone (profile) comes from the page's root locals, filled by ViewLocals.
    hbs.registerHelper(
      'utcTime',
      (d: unknown, options: { data?: { root?: { user?: { timezone?: unknown } } } }) => {
        const zone = options?.data?.root?.user?.timezone;
        return utcTime(d, typeof zone === 'string' ? zone : null);
      },
    );
    hbs.registerHelper('isoTime', (d: unknown) => isoTime(d));
    hbs.registerHelper('duration', (ms: unknown) => humanDuration(ms));
    hbs.registerHelper('num', (n: unknown) => formatNumber(n));
    hbs.registerHelper('pct', (a: unknown, b: unknown) => percent(a, b));
    hbs.registerHelper('json', (v: unknown) => JSON.stringify(v, null, 2));
    hbs.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(String).join(''));
    hbs.registerHelper('year', () => new Date().getUTCFullYear());
    // Escaped output stays the default; this only joins a list for display.
    hbs.registerHelper('join', (list: unknown, sep: unknown) =>
      Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : '',
    );
    await new Promise<void>((resolve) => hbs.registerPartials(join(VIEWS_DIR, 'partials'), () => resolve()));
  })();
  return registered;
}

/**
 * Templates are compiled (at their first render, when every helper is registered) knowing the
 * helpers: a `{{name}}` then reads the context directly instead of first asking whether a helper has
 * that name, which the list page's profile showed on every expression. A template that names a
 * helper nobody registered fails to compile, at its first render, rather than printing nothing.
 */
function compileKnowingHelpers(): void {
  const handlebars = hbs.handlebars;
  const compile = handlebars.compile.bind(handlebars);
  handlebars.compile = ((input: string, options?: CompileOptions) =>
    compile(input, {
      knownHelpers: Object.fromEntries(Object.keys(handlebars.helpers).map((name) => [name, true])),
      knownHelpersOnly: true,
      ...options,
    })) as typeof handlebars.compile;
}
