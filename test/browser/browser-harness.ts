import AxeBuilder from '@axe-core/playwright';
import { runsTable } from '../factories/runs';
import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Browser, BrowserContext, BrowserContextOptions, chromium, Locator, Page } from 'playwright-core';
import { TenantsService } from '../../src/tenants/tenants.service';
import { createTestApp, DEMO_PASSWORD, TestApp, TestAppOptions } from '../factories/test-app';

/**
 * Real headless Chromium (Debian's /usr/bin/chromium, never a downloaded one) against the real app,
 * in-process on its own database and Redis. Every page a test visits is saved as a full-page PNG under
 * test-artifacts/screenshots/<spec>/, and any console error, uncaught page error or CSP violation
 * fails the test: the app promises to work under a strict Content-Security-Policy.
 */

// Functions passed to page.evaluate / addInitScript run in Chromium. The project's type-check has no DOM
// lib (this is a Node app, and adding it would leak browser globals into src/), so the few browser
// globals those functions use are declared for this module only.
interface El {
  id: string;
  className: unknown;
  tagName: string;
  textContent: string | null;
  parentElement: El | null;
  getBoundingClientRect(): { right: number; width: number };
}
declare const window: { innerWidth: number; scrollTo(x: number, y: number): void };
declare const document: {
  documentElement: { scrollWidth: number };
  body: El & { querySelectorAll(selector: string): ArrayLike<El> };
  addEventListener(type: 'securitypolicyviolation', listener: (e: CspViolation) => void): void;
};
declare const getComputedStyle: (el: El) => { overflowX: string };
interface CspViolation {
  violatedDirective: string;
  blockedURI: string;
  sourceFile: string;
  lineNumber: number;
  sample: string;
}

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Waits in the browser are bounded: nothing a user watches should take longer than this. */
export const WAIT_MS = 30_000;

export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

export interface UserPage {
  email: string;
  context: BrowserContext;
  page: Page;
  /** Full-page PNG of the page as it is now: test-artifacts/screenshots/<spec>/<nn>-<name>.png. */
  shot(name: string): Promise<string>;
  /**
   * Navigates to an app path and screenshots the page. Without `status` any 4xx/5xx answer fails; with
   * it (an error page on purpose, say) the answer must be exactly that.
   */
  visit(path: string, name: string, status?: number): Promise<void>;
  /** Clicks something that loads a new page (a link, a form's submit button), waits for it, screenshots it. */
  clickTo(target: Locator, name: string): Promise<void>;
}

export interface BrowserHarness {
  t: TestApp;
  baseUrl: string;
  browser: Browser;
  contosoId: number;
  screenshotDir: string;
  /** A fresh browser context (own cookies), signed in through the real login form. */
  signIn(email: string, options?: BrowserContextOptions, label?: string): Promise<UserPage>;
  /** A fresh browser context that is not signed in (a visitor, someone opening an invitation link). */
  visitor(options?: BrowserContextOptions): Promise<UserPage>;
  /** A console error the test provokes on purpose (e.g. the 403 of a forged request). */
  expectConsoleError(pattern: RegExp): void;
  /** Fails if a page logged an error or was left without a screenshot. Call after every test. */
  assertClean(): void;
  runCount(): Promise<number>;
  close(): Promise<void>;
}

/** The run id in a /admin/t/:tenant/operations/:id URL or href. */
export function runIdOf(url: string): number {
  const m = /\/admin\/t\/[a-z0-9-]+\/operations\/(\d+)(?:[?#].*)?$/.exec(url);
  if (!m) throw new Error(`not a run page: ${url}`);
  return Number(m[1]);
}

/**
 * WCAG 2.1 A and AA violations axe-core finds on the page as it is now, one line each (rule, what it
 * asks, where). Pages are finished work: every browser test expects this to be empty.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} at ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(' '))
        .join(', ')}`,
  );
}

/** The trimmed text of each element, in document order. */
export async function texts(locator: Locator): Promise<string[]> {
  return (await locator.allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim());
}

/**
 * Elements that stick out to the right of the viewport and are not inside a scrolling container (those
 * scroll on their own and do not widen the page). Only the outermost offenders are named.
 */
export async function horizontalOverflow(page: Page): Promise<{ overflows: boolean; offenders: string[] }> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const overflows = document.documentElement.scrollWidth > width + 1;
    const describe = (el: El) => {
      const id = el.id ? `#${el.id}` : '';
      const cls =
        typeof el.className === 'string' && el.className
          ? `.${el.className.trim().split(/\s+/).join('.')}`
          : '';
      const r = el.getBoundingClientRect();
      const text = (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40);
      return `${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(r.right)}px of ${width}px) "${text}"`;
    };
    const clipped = (el: El) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o !== 'visible') return true;
      }
      return false;
    };
    const offending = new Set<El>();
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > width + 1 && !clipped(el)) offending.add(el);
    }
    const outermost = [...offending].filter((el) => !el.parentElement || !offending.has(el.parentElement));
    return { overflows, offenders: outermost.slice(0, 10).map(describe) };
  });
}

export async function startHarness(spec: string, options: TestAppOptions = {}): Promise<BrowserHarness> {
  const t = await createTestApp(options);
  let browser: Browser | undefined;
  try {
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const contosoId = (await t.get<TenantsService>(TenantsService).findBySlug('contoso'))!.id;
    const screenshotDir = join(ROOT, 'test-artifacts', 'screenshots', spec);
    rmSync(screenshotDir, { recursive: true, force: true });
    mkdirSync(screenshotDir, { recursive: true });
    return harness(t, browser, baseUrl, contosoId, screenshotDir);
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await t.close();
    throw e;
  }
}

function harness(
  t: TestApp,
  browser: Browser,
  baseUrl: string,
  contosoId: number,
  screenshotDir: string,
): BrowserHarness {
  let problems: string[] = [];
  let expected: RegExp[] = [];
  let seq = 0;
  const contexts: BrowserContext[] = [];
  /** Per page: main-frame navigations not yet followed by a screenshot. */
  const unshot = new Map<Page, string[]>();

  const report = (email: string, what: string) => {
    const i = expected.findIndex((re) => re.test(what));
    if (i >= 0) expected.splice(i, 1);
    else problems.push(`[${email}] ${what}`);
  };

  const watch = async (page: Page, email: string) => {
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (msg) => {
      if (msg.type() === 'error' || /Content.Security.Policy/i.test(msg.text())) {
        const loc = msg.location();
        report(
          email,
          `console ${msg.type()}: ${msg.text()}${loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`,
        );
      }
    });
    page.on('pageerror', (err) => report(email, `page error: ${err.message}`));
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) unshot.set(page, [...(unshot.get(page) ?? []), frame.url()]);
    });
    // Runs through the DevTools protocol, so the page's own CSP does not apply to this listener.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(
          `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`,
        );
      });
    });
  };

  const userPage = (email: string, context: BrowserContext, page: Page): UserPage => {
    const shot = async (name: string) => {
      seq += 1;
      const file = join(screenshotDir, `${String(seq).padStart(2, '0')}-${name}.png`);
      // From the top: a page scrolled by a click would otherwise show the sticky top bar mid-image.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: file, fullPage: true });
      unshot.set(page, []);
      return file;
    };
    return {
      email,
      context,
      page,
      shot,
      visit: async (path, name, status) => {
        const res = await page.goto(baseUrl + path);
        const got = res?.status();
        if (status === undefined ? !res || got! >= 400 : got !== status)
          throw new Error(`GET ${path} answered ${got}${status === undefined ? '' : `, not ${status}`}`);
        await shot(name);
      },
      clickTo: async (target, name) => {
        // Not waitForURL: a form that redirects back to the same address would match at once.
        const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
        try {
          await target.click();
        } catch (e) {
          navigated.catch(() => undefined);
          throw e;
        }
        await navigated;
        await page.waitForLoadState('load');
        await shot(name);
      },
    };
  };

  return {
    t,
    baseUrl,
    browser,
    contosoId,
    screenshotDir,
    async signIn(email, contextOptions = {}, label = email.split('@')[0]) {
      const context = await browser.newContext({ baseURL: baseUrl, ...contextOptions });
      contexts.push(context);
      const page = await context.newPage();
      await watch(page, email);
      const user = userPage(email, context, page);
      await user.visit('/login', `${label}-login`);
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Password').fill(DEMO_PASSWORD);
      await Promise.all([
        page.waitForURL(/\/admin\/t\/[a-z0-9-]+\/operations$/),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      await user.shot(`${label}-signed-in`);
      return user;
    },
    async visitor(contextOptions = {}) {
      const context = await browser.newContext({ baseURL: baseUrl, ...contextOptions });
      contexts.push(context);
      const page = await context.newPage();
      await watch(page, 'visitor');
      return userPage('visitor', context, page);
    },
    expectConsoleError(pattern) {
      expected.push(pattern);
    },
    assertClean() {
      const p = problems;
      const missing = [...unshot.entries()]
        .filter(([page, urls]) => !page.isClosed() && urls.some((u) => u !== 'about:blank'))
        .map(([, urls]) => urls.join(', '));
      const leftover = expected;
      problems = [];
      expected = [];
      const errors = [
        ...p,
        ...missing.map((u) => `visited without a screenshot: ${u}`),
        ...leftover.map((re) => `expected a console error matching ${re} that never came`),
      ];
      if (errors.length) throw new Error(`browser problems:\n  ${errors.join('\n  ')}`);
    },
    runCount: () => runsTable(t.dataSource).count({ where: { tenantId: contosoId } }),
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await t.close();
    },
  };
}

/**
 * The flash message the page just rendered (it is part of the server's HTML, so it is there at load or
 * not at all) and the run id of its "View run" link, if any. Fails at once, naming what the page shows.
 */
export async function flashOf(
  user: UserPage,
  message: RegExp,
): Promise<{ text: string; runId?: number; viewRun?: Locator }> {
  const flashes = user.page.locator('.flash');
  const all = await texts(flashes);
  const i = all.findIndex((text) => message.test(text));
  if (i < 0) {
    throw new Error(
      `no flash matching ${message} on ${user.page.url()}; flashes shown: ${JSON.stringify(all)}`,
    );
  }
  const link = flashes.nth(i).getByRole('link', { name: 'View run', exact: true });
  const href = (await link.count()) ? await link.getAttribute('href') : null;
  return href ? { text: all[i], runId: runIdOf(href), viewRun: link } : { text: all[i] };
}

/** Follows the flash's "View run" link to the run page and returns the run id. */
export async function followViewRun(user: UserPage, message: RegExp, name: string): Promise<number> {
  const { runId, viewRun } = await flashOf(user, message);
  if (!runId || !viewRun) throw new Error(`the flash matching ${message} has no "View run" link`);
  await user.clickTo(viewRun, name);
  if (runIdOf(user.page.url()) !== runId) throw new Error(`"View run" led to ${user.page.url()}`);
  return runId;
}

/** The status badge of the run page's live part, as a user reads it. */
export function runBadge(page: Page): Locator {
  return page.locator('#run-live .stat').filter({ hasText: 'Status' }).locator('.badge');
}

/** Waits, without reloading, until the run page's live part shows the bucket. */
export async function waitForBadge(page: Page, label: string): Promise<void> {
  await runBadge(page)
    .filter({ hasText: new RegExp(`^${label}$`) })
    .waitFor({ timeout: WAIT_MS });
}

/** The value of one counter card on a run page ("Processed" → "282 / 282"). */
export async function statValue(page: Page, label: string): Promise<string> {
  const text = await page
    .locator('#run-live .stat')
    .filter({ has: page.locator('.label', { hasText: new RegExp(`^${label}$`) }) })
    .locator('.value')
    .textContent();
  return (text ?? '').replace(/\s+/g, ' ').trim();
}
