import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { WriteBehind } from '../common/write-behind';
import { chunks } from '../database/sql';
import { BusCache, CacheBus } from '../queue';
import { NotificationInput, NotificationRow, NotificationsRepository } from './notifications.repository';

export type { NotificationInput, NotificationRow };

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

  /** Unread counts by user (the bell on every page), dropped in every process when they change. */
  private readonly unread: BusCache<number>;

  constructor(
    private readonly repo: NotificationsRepository,
    private readonly bus: CacheBus,
  ) {
    this.unread = new BusCache(bus, 'notifications:unread');
  }

  private changed(userIds: number[] | 'all'): Promise<void> {
    return this.bus.invalidate(this.unread.topic, userIds === 'all' ? 'all' : [...new Set(userIds)]);
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

  /**
   * One entry per run: a result (completed, failed, cancelled) replaces the run's queued notice,
   * whether that is still in this batch or stored already.
   */
  private async write(all: Array<{ n: NotificationInput; at: Date }>): Promise<void> {
    const ended = new Set(
      all.filter(({ n }) => n.kind !== 'run_queued' && n.runId !== null).map(({ n }) => n.runId!),
    );
    const batch = all.filter(({ n }) => n.kind !== 'run_queued' || n.runId === null || !ended.has(n.runId));
    if (ended.size) {
      try {
        await this.repo.deleteQueued([...ended]);
      } catch (e) {
        // Reads leave a superseded queued notice out anyway (see NotificationsRepository).
        this.logger.warn({ err: e, runs: ended.size }, 'could not remove queued notifications');
      }
    }
    for (const part of chunks(batch, 200)) {
      try {
        await this.repo.insert(part);
      } catch (e) {
        this.logger.error({ err: e, count: part.length }, 'could not store notifications');
      }
    }
    // A removed queued notice belongs to the same users as its run's result.
    await this.changed(all.map(({ n }) => n.userId));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  unreadCount(userId: number, tenantIds: number[]): Promise<number> {
    return this.unread.get(userId, tenantIds.join(','), () => this.repo.unreadCount(userId, tenantIds));
  }

  list(
    userId: number,
    tenantIds: number[],
    opts: { beforeId?: number; unreadOnly?: boolean; limit: number },
  ): Promise<NotificationRow[]> {
    return this.repo.list(userId, tenantIds, opts);
  }

  async markRead(userId: number, id: number): Promise<boolean> {
    const done = await this.repo.markRead(userId, id);
    await this.changed([userId]);
    return done;
  }

  /** The user opened the run's page: its notifications are read. */
  async markRunRead(userId: number, runId: number): Promise<void> {
    await this.repo.markRunRead(userId, runId);
    await this.changed([userId]);
  }

  async markAllRead(userId: number): Promise<void> {
    await this.repo.markAllRead(userId);
    await this.changed([userId]);
  }

  /** Retention: notifications of pruned runs, and any older than the cut-off. */
  async prune(runIds: number[], before: Date): Promise<void> {
    await this.repo.prune(runIds, before);
    await this.changed('all');
  }

  forRun(runId: number): Promise<NotificationRow[]> {
    return this.repo.forRun(runId);
  }
}
