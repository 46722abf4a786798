/** One administrative or run action: who, when, where, what, and what changed. No secret ever. */
export interface AuditInput {
  /** The user who did it; null for the system (the CLI, a reconcile). */
  actorId: number | null;
  /** The tenant it happened in; null for platform actions (a user deactivated). */
  tenantId: number | null;
  /** `tenant.created`, `member.role_changed`, `run.cancel`, … */
  action: string;
  subject: { type: string; id: string | number | null; label: string };
  before?: unknown;
  after?: unknown;
  detail?: string | null;
}

export interface AuditEntry extends Omit<AuditInput, 'subject'> {
  id: number;
  at: Date;
  subject: { type: string; id: string | null; label: string };
}
