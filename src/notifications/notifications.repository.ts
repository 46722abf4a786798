import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import { chunks, placeholders, readDate, readNum, readNumOrNull } from '../database/sql';

export interface NotificationInput {
  userId: number;
  tenantId: number;
  runId: number | null;
  kind: 'run_queued' | 'run_completed' | 'run_failed' | 'run_cancelled';
  level: 'info' | 'success' | 'warning' | 'error';
  title: string;
  body: string;
  link: string | null;
}

export interface NotificationRow extends NotificationInput {
  id: number;
  createdAt: Date;
  readAt: Date | null;
}

const COLUMNS = 'id, user_id, tenant_id, run_id, kind, level, title, body, link, created_at, read_at';

/**
 * A run's result replaces its queued notice (one entry per run): the result deletes it when both are
 * written by one process; when a queued notice is stored after its result (written by another
 * process, later), reads leave it out.
 */
const NOT_SUPERSEDED = `NOT (notifications.kind = 'run_queued' AND notifications.run_id IS NOT NULL AND EXISTS (
  SELECT 1 FROM notifications r WHERE r.run_id = notifications.run_id AND r.kind <> 'run_queued'))`;

/** The notifications table. Reads are limited to the tenants the user is currently a member of. */
@Injectable()
export class NotificationsRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async insert(rows: Array<{ n: NotificationInput; at: Date }>): Promise<void> {
    if (!rows.length) return;
    const cols = ['user_id', 'tenant_id', 'run_id', 'kind', 'level', 'title', 'body', 'link', 'created_at'];
    const one = `(${placeholders(cols.length)})`;
    await this.db.exec(
      `INSERT INTO notifications (${cols.join(', ')}) VALUES ${rows.map(() => one).join(', ')}`,
      rows.flatMap(({ n, at }) => [
        n.userId,
        n.tenantId,
        n.runId,
        n.kind,
        n.level,
        n.title.slice(0, 200),
        n.body.slice(0, 500),
        n.link,
        this.dialect.date(at),
      ]),
    );
  }

  async unreadCount(userId: number, tenantIds: number[]): Promise<number> {
    if (!tenantIds.length) return 0;
    const [{ n }] = await this.db.query(
      `SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL AND tenant_id IN (${placeholders(tenantIds.length)}) AND ${NOT_SUPERSEDED}`,
      [userId, ...tenantIds],
    );
    return readNum(n);
  }

  async list(
    userId: number,
    tenantIds: number[],
    opts: { beforeId?: number; unreadOnly?: boolean; limit: number },
  ): Promise<NotificationRow[]> {
    if (!tenantIds.length) return [];
    const where = ['user_id = ?', `tenant_id IN (${placeholders(tenantIds.length)})`, NOT_SUPERSEDED];
    const params: unknown[] = [userId, ...tenantIds];
    if (opts.beforeId) {
      where.push('id < ?');
      params.push(opts.beforeId);
    }
    if (opts.unreadOnly) where.push('read_at IS NULL');
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM notifications WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ${Math.trunc(opts.limit)}`,
      params,
    );
    return rows.map(toNotification);
  }

  /** Whether the notification is this user's (read or not); marks it read. */
  async markRead(userId: number, id: number): Promise<boolean> {
    const rows = await this.db.query('SELECT id FROM notifications WHERE id = ? AND user_id = ?', [
      id,
      userId,
    ]);
    if (!rows.length) return false;
    await this.db.exec(
      'UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL',
      [this.dialect.date(new Date()), id, userId],
    );
    return true;
  }

  /** Marks what a user was told about these runs read (they opened the run's page). */
  async markRunRead(userId: number, runId: number): Promise<void> {
    await this.db.exec(
      'UPDATE notifications SET read_at = ? WHERE run_id = ? AND user_id = ? AND read_at IS NULL',
      [this.dialect.date(new Date()), runId, userId],
    );
  }

  /** Drops the queued notices of runs whose result is being stored (see NOT_SUPERSEDED). */
  async deleteQueued(runIds: number[]): Promise<void> {
    for (const part of chunks(runIds, 500))
      await this.db.exec(
        `DELETE FROM notifications WHERE kind = 'run_queued' AND run_id IN (${placeholders(part.length)})`,
        part,
      );
  }

  async markAllRead(userId: number): Promise<void> {
    await this.db.exec('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL', [
      this.dialect.date(new Date()),
      userId,
    ]);
  }

  async prune(runIds: number[], before: Date): Promise<void> {
    if (runIds.length)
      await this.db.exec(
        `DELETE FROM notifications WHERE run_id IN (${placeholders(runIds.length)})`,
        runIds,
      );
    await this.db.exec('DELETE FROM notifications WHERE created_at < ?', [this.dialect.date(before)]);
  }

  async forRun(runId: number): Promise<NotificationRow[]> {
    return (
      await this.db.query(
        `SELECT ${COLUMNS} FROM notifications WHERE run_id = ? AND ${NOT_SUPERSEDED} ORDER BY id`,
        [runId],
      )
    ).map(toNotification);
  }
}

function toNotification(r: Record<string, unknown>): NotificationRow {
  return {
    id: readNum(r.id),
    userId: readNum(r.user_id),
    tenantId: readNum(r.tenant_id),
    runId: readNumOrNull(r.run_id),
    kind: r.kind as NotificationInput['kind'],
    level: r.level as NotificationInput['level'],
    title: String(r.title),
    body: String(r.body),
    link: (r.link as string | null) ?? null,
    createdAt: readDate(r.created_at)!,
    readAt: readDate(r.read_at),
  };
}
