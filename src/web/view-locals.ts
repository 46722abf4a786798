import { Inject, Injectable, Logger, OnModuleInit, SetMetadata } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { Express, Response } from 'express';
import { takeFlash } from './flash';
import { CSRF_TOKENS, CsrfTokens, WebRequest } from './request';
import { escapeHtml as e } from './views';

const LAYOUT_PART = 'web:layout-part';

interface SwitcherEntry {
  slug: string;
  name: string;
  role: unknown;
  archived: boolean;
}

const byName = new Intl.Collator('en');

/** A principal's tenants, sorted once, and the lists' HTML, built once per current tenant. */
interface Switcher {
  active: SwitcherEntry[];
  archived: SwitcherEntry[];
  /** The top bar's `<li>` items, by the current tenant's slug ('' on pages of no tenant). */
  items: Map<string, string>;
  /** The side navigation's tenant links (shown on pages of no tenant). */
  nav?: string;
}

const tenantHref = (t: SwitcherEntry) => `/admin/t/${e(t.slug)}/operations`;

/**
 * The switcher's items, the current tenant marked (see topbar.hbs, which places them): active tenants,
 * then archived ones under their own heading.
 */
function switcherItems(s: Switcher, current: string): string {
  const item = (t: SwitcherEntry, note: string) =>
    `<li><a href="${tenantHref(t)}" ${t.slug === current ? 'aria-current="true"' : ''}>${e(t.name)} <small class="muted">${note}${e(t.role)}</small></a></li>\n`;
  let html = '';
  for (const t of s.active) html += item(t, '');
  if (s.archived.length) {
    html += '<li class="switcher-group" aria-hidden="true">Archived</li>\n';
    for (const t of s.archived) html += item(t, 'archived · ');
  }
  return html;
}

/** The side navigation's tenant links (see sidenav.hbs). */
function navItems(s: Switcher): string {
  let html = '';
  for (const t of s.active) html += `<li><a href="${tenantHref(t)}">${e(t.name)}</a></li>`;
  for (const t of s.archived)
    html += `<li><a href="${tenantHref(t)}">${e(t.name)} <small class="muted">(archived)</small></a></li>`;
  return html;
}

/**
 * A module's own piece of every full page's layout (the notification bell's count), read before the
 * page renders. Mark the provider with @LayoutPart(); pages pay for it, JSON answers and fragments
 * (rendered with `layout: false`) do not.
 */
export interface LayoutPartProvider {
  fill(req: WebRequest, res: Response): Promise<void>;
}
export const LayoutPart = () => SetMetadata(LAYOUT_PART, true);

type RenderCallback = (err: Error, html: string) => void;
type Render = (
  this: Response,
  view: string,
  options?: object | RenderCallback,
  callback?: RenderCallback,
) => void;

/**
 * What the layout needs (user, tenant switcher, CSRF token, flash) in res.locals, which Express merges
 * into every render. Filled when a template renders (install), not on every request: JSON answers,
 * redirects and probes pay nothing for it.
 */
@Injectable()
export class ViewLocals implements OnModuleInit {
  private readonly logger = new Logger('ViewLocals');
  private readonly populated = new WeakSet<Response>();
  private parts: LayoutPartProvider[] = [];
  private readonly switchers = new WeakMap<object, Switcher>();

  constructor(
    @Inject(CSRF_TOKENS) private readonly csrf: CsrfTokens,
    private readonly modules: ModulesContainer,
  ) {}

  onModuleInit(): void {
    const found = new Set<LayoutPartProvider>();
    for (const moduleRef of this.modules.values())
      for (const wrapper of moduleRef.providers.values())
        if (wrapper.metatype && wrapper.instance && Reflect.getMetadata(LAYOUT_PART, wrapper.metatype))
          found.add(wrapper.instance as LayoutPartProvider);
    this.parts = [...found];
  }

  /**
   * Makes every res.render of this app fill the layout's locals first: Nest's @Render, a handler's own
   * res.render and the error pages alike. Installed once on the app's response prototype, so a
   * request that renders nothing runs none of it.
   */
  install(app: Express): void {
    const render = app.response.render as Render;
    const prepare = (res: Response, options: unknown) => this.beforeRender(res, options);
    app.response.render = function renderWithLayout(this: Response, view, options, callback): void {
      const pending = prepare(this, options);
      if (!pending) return render.call(this, view, options, callback);
      pending
        .then(() => render.call(this, view, options, callback))
        .catch((err: unknown) => this.req.next?.(err));
    } as Render;
  }

  /** The locals, at once; a promise when layout parts must be read before the page renders. */
  private beforeRender(res: Response, options: unknown): Promise<unknown> | undefined {
    const req = res.req as WebRequest;
    if (!this.populated.has(res)) {
      try {
        this.populate(req, res);
      } catch (e) {
        // An error page must render even when the session itself is what failed.
        if (res.statusCode < 400) throw e;
      }
    }
    // Fragments have no layout; a 5xx page (the database may be what failed) asks nothing more of it.
    const fragment =
      typeof options === 'object' && (options as { layout?: unknown } | null)?.layout === false;
    if (fragment || res.statusCode >= 500 || !this.parts.length) return undefined;
    return Promise.all(
      this.parts.map((part) =>
        part.fill(req, res).catch((err: unknown) => {
          // A page without its bell count beats no page.
          this.logger.warn({ err, path: req.path }, 'a layout part failed; rendering without it');
        }),
      ),
    );
  }

  /**
   * A principal's tenants in name order, split into active and archived: sorted once per principal
   * object (the same object serves a user until their access changes), not on every page of a user
   * with fifty tenants. The lists' HTML is kept with it: fifty tenants twice over were a template's
   * dearest loop on every page.
   */
  private switcherOf(principal: NonNullable<WebRequest['principal']>): Switcher {
    let known = this.switchers.get(principal);
    if (!known) {
      const all = [...principal.memberships]
        .sort((a, b) => byName.compare(a.name, b.name))
        .map((m) => ({
          slug: m.slug,
          name: m.name,
          role: m.role,
          archived: m.archived ?? false,
        }));
      known = {
        active: all.filter((t) => !t.archived),
        archived: all.filter((t) => t.archived),
        items: new Map(),
      };
      this.switchers.set(principal, known);
    }
    return known;
  }

  populate(req: WebRequest, res: Response): void {
    const locals = res.locals;
    locals.csrfToken = this.csrf.tokenFor(req, res);
    if (req.session) locals.flash = takeFlash(req);
    if (req.principal) {
      locals.user = {
        id: req.principal.id,
        name: req.principal.name,
        email: req.principal.email,
        isOps: req.principal.isOps,
        theme: req.principal.theme ?? 'system',
        timezone: req.principal.timezone ?? null,
      };
      const switcher = this.switcherOf(req.principal);
      const current = req.tenant?.slug ?? '';
      let items = switcher.items.get(current);
      if (items === undefined) {
        items = switcherItems(switcher, current);
        // One entry per tenant the user opens; a principal object lives until their access changes.
        switcher.items.set(current, items);
      }
      // Empty for a user of no tenant: the top bar then shows no switcher.
      locals.switcherItemsHtml = items;
      if (!current) locals.navTenantsHtml = switcher.nav ??= navItems(switcher);
      locals.canSeeQueues = req.canSeeQueues ?? false;
      locals.navLinks = req.navLinks ?? {};
    }
    if (req.tenant) locals.tenant = req.tenant;
    locals.path = req.path;
    this.populated.add(res);
  }
}
