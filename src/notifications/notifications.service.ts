import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WriteBehind } from '../common/write-behind';
import { chunks, fromDbDate, insertRows, toDbDate } from '../database/sql';

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

const FLUSH_MS = 50;

/**
 * Per-user notifications. Reads are always limited to the tenants the user is currently a member of,
 * so a notification never leads into a tenant the user can no longer see.
 */
@Injectable()
export class NotificationsService implements OnApplicationShutdown {
  private readonly logger = new Logger('Notifications');
  private buffer: Array<{ n: NotificationInput; at: Date }> = [];
  private readonly behind = new WriteBehind(
    FLUSH_MS,
    () => {
      const batch = this.buffer;
      this.buffer = [];
      return batch;
    },
    (batch) => this.write(batch),
  );

  constructor(private readonly ds: DataSource) {}

  private get mysql(): boolean {
    return this.ds.options.type === 'mysql';
  }

  /**
   * Queues a notification; queued ones are written together every few milliseconds (and on
   * shutdown), one multi-row INSERT for many runs instead of one statement each.
   */
  enqueue(n: NotificationInput): void {
    this.buffer.push({ n, at: new Date() });
    this.behind.schedule();
  }

  /** Stores one notification now (with anything else queued). */
  async create(n: NotificationInput): Promise<void> {
    this.enqueue(n);
    await this.flush();
  }

  /** Writes what is queued; resolves once it is stored. */
  flush(): Promise<void> {
    return this.behind.flush();
  }

  private async write(batch: Array<{ n: NotificationInput; at: Date }>): Promise<void> {
    for (const part of chunks(batch, 200)) {
      try {
        await insertRows(
          this.ds,
          'notifications',
          ['user_id', 'tenant_id', 'run_id', 'kind', 'level', 'title', 'body', 'link', 'created_at'],
          part.map(({ n, at }) => [
            n.userId,
            n.tenantId,
            n.runId,
            n.kind,
            n.level,
            n.title.slice(0, 200),
            n.body.slice(0, 500),
            n.link,
            toDbDate(at, this.mysql),
          ]),
        );
      } catch (e) {
        this.logger.error({ err: e, count: part.length }, 'could not store notifications');
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  async unreadCount(userId: number, tenantIds: number[]): Promise<number> {
    if (!tenantIds.length) return 0;
    const [{ n }] = await this.ds.query(
      `SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL AND tenant_id IN (${tenantIds.map(() => '?').join(', ')})`,
      [userId, ...tenantIds],
    );
    return Number(n);
  }

  async list(
    userId: number,
    tenantIds: number[],
    opts: { beforeId?: number; unreadOnly?: boolean; limit: number },
  ): Promise<NotificationRow[]> {
    if (!tenantIds.length) return [];
    const where = ['user_id = ?', `tenant_id IN (${tenantIds.map(() => '?').join(', ')})`];
    const params: unknown[] = [userId, ...tenantIds];
    if (opts.beforeId) {
      where.push('id < ?');
      params.push(opts.beforeId);
    }
    if (opts.unreadOnly) where.push('read_at IS NULL');
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT id, user_id, tenant_id, run_id, kind, level, title, body, link, created_at, read_at FROM notifications
       WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ${opts.limit}`,
      params,
    );
    return raw.map((r) => ({
      id: Number(r.id),
      userId: Number(r.user_id),
      tenantId: Number(r.tenant_id),
      runId: r.run_id === null ? null : Number(r.run_id),
      kind: r.kind as NotificationInput['kind'],
      level: r.level as NotificationInput['level'],
      title: String(r.title),
      body: String(r.body),
      link: (r.link as string | null) ?? null,
      createdAt: fromDbDate(r.created_at)!,
      readAt: fromDbDate(r.read_at),
    }));
  }

  async markRead(userId: number, id: number): Promise<boolean> {
    const rows = await this.ds.query('SELECT id FROM notifications WHERE id = ? AND user_id = ?', [
      id,
      userId,
    ]);
    if (!rows.length) return false;
    await this.ds.query(
      'UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL',
      [toDbDate(new Date(), this.mysql), id, userId],
    );
    return true;
  }

  async markAllRead(userId: number): Promise<void> {
    await this.ds.query('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL', [
      toDbDate(new Date(), this.mysql),
      userId,
    ]);
  }

  /** Retention: notifications of pruned runs, and any older than the cut-off. */
  async prune(runIds: number[], before: Date): Promise<void> {
    if (runIds.length)
      await this.ds.query(
        `DELETE FROM notifications WHERE run_id IN (${runIds.map(() => '?').join(', ')})`,
        runIds,
      );
    await this.ds.query('DELETE FROM notifications WHERE created_at < ?', [toDbDate(before, this.mysql)]);
  }

  async forRun(runId: number): Promise<NotificationRow[]> {
    const raw: Record<string, unknown>[] = await this.ds.query(
      'SELECT id, user_id, kind, title, body, link FROM notifications WHERE run_id = ? ORDER BY id',
      [runId],
    );
    return raw.map(
      (r) =>
        ({
          id: Number(r.id),
          userId: Number(r.user_id),
          kind: r.kind,
          title: r.title,
          body: r.body,
          link: r.link,
        }) as NotificationRow,
    );
  }
}
