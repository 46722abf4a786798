import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { type AuditEntry, AuditService } from '../audit';
import { AuthService, type AuthedRequest, Can } from '../auth';
import { AppError } from '../common/app-error';
import { idParam, textParam } from '../common/query-params';
import { TenantsService } from '../tenants';

const PAGE = 50;

/** A value of an audit entry's before/after as a short readable text. */
function show(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The fields an entry changed, each with its value before and after. */
function changes(e: AuditEntry): Array<{ field: string; before: string | null; after: string | null }> {
  const before = (e.before ?? {}) as Record<string, unknown>;
  const after = (e.after ?? {}) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields
    .filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]))
    .map((f) => ({
      field: f.replace(/_/g, ' '),
      before: e.before === undefined || !(f in before) ? null : show(before[f]),
      after: e.after === undefined || !(f in after) ? null : show(after[f]),
    }));
}

/** Administration → Audit log (a tenant's) and Platform → Audit log (everything). */
@ApiExcludeController()
@Controller('admin')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly auth: AuthService,
    private readonly tenants: TenantsService,
  ) {}

  @Get('t/:tenant/audit')
  @Can('read', 'AuditEntry')
  async tenantLog(@Req() req: AuthedRequest, @Res() res: Response, @Query() q: Record<string, unknown>) {
    res.render('admin/audit', {
      title: `Audit log · ${req.tenant!.name}`,
      nav: 'audit',
      ...(await this.model(req.tenant!.id, q, `/admin/t/${req.tenant!.slug}/audit`)),
    });
  }

  @Get('audit')
  @Can('read', 'AuditEntry')
  async platformLog(@Res() res: Response, @Query() q: Record<string, unknown>) {
    res.render('admin/audit', {
      title: 'Audit log',
      nav: 'platform-audit',
      platform: true,
      ...(await this.model(null, q, '/admin/audit')),
    });
  }

  private async model(tenantId: number | null, q: Record<string, unknown>, base: string) {
    const actorId = idParam(q.actor, 'actor', 'a user id');
    const action = textParam(q.action, 'action', 48);
    if (action && !/^[a-z_]+\.[a-z_]+$/.test(action))
      throw AppError.badRequest('"action" must be an action name such as member.invited.');
    const before = idParam(q.before, 'before', 'an entry id');
    const [rows, actorIds, actions] = await Promise.all([
      this.audit.list({ tenantId, actorId, action, before, limit: PAGE + 1 }),
      this.audit.actors(tenantId),
      this.audit.actions(tenantId),
    ]);
    const entries = rows.slice(0, PAGE);
    const names = await this.auth.namesOf([...actorIds, ...entries.map((e) => e.actorId)]);
    const tenantNames =
      tenantId === null ? new Map((await this.tenants.all()).map((t) => [t.id, t.name])) : new Map();
    const keep = { ...(actorId ? { actor: String(actorId) } : {}), ...(action ? { action } : {}) };
    const last = entries[entries.length - 1];
    return {
      entries: entries.map((e) => ({
        ...e,
        actorName: e.actorId === null ? 'System' : (names.get(e.actorId) ?? `user #${e.actorId}`),
        tenantName:
          e.tenantId === null ? 'Platform' : (tenantNames.get(e.tenantId) ?? `tenant #${e.tenantId}`),
        changes: changes(e),
      })),
      actors: [...names.entries()]
        .filter(([id]) => actorIds.includes(id))
        .sort((a, b) => a[1].localeCompare(b[1]))
        .map(([id, name]) => ({ id, name, selected: id === actorId })),
      actions: actions.map((a) => ({ value: a, selected: a === action })),
      filtered: Boolean(actorId || action),
      base,
      nextHref:
        rows.length > PAGE && last
          ? `?${new URLSearchParams({ ...keep, before: String(last.id) }).toString()}`
          : null,
      firstHref: before ? `?${new URLSearchParams(keep).toString()}` : null,
    };
  }
}
