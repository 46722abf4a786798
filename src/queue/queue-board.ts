import { BullAdapter } from '@bull-board/api/bullAdapter';
import { BullBoardInstance, InjectBullBoard } from '@bull-board/nestjs';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type { Request } from 'express';

/** Who may open the Bull board; provided by the auth module (the queue module knows no users). */
export const QUEUE_BOARD_GATE = Symbol('QUEUE_BOARD_GATE');
export type QueueBoardGate = (req: Request) => Promise<boolean>;

export const QUEUE_BOARD_ROUTE = '/admin/queues';

/** The Bull board mounted by this app; the hub adds every producer queue to it at boot. */
@Injectable()
export class QueueBoard {
  private readonly added = new Set<string>();

  constructor(@InjectBullBoard() private readonly board: BullBoardInstance) {}

  addQueue(
    queue: Queue,
    jobLink: (data: Record<string, unknown>) => { href: string; displayText: string } | undefined,
  ): void {
    if (this.added.has(queue.name)) return;
    this.added.add(queue.name);
    this.board.addQueue(
      new BullAdapter(queue, {
        externalJobUrl: (job) =>
          jobLink((job.data ?? {}) as Record<string, unknown>) ?? {
            href: QUEUE_BOARD_ROUTE,
            displayText: 'no run',
          },
      }),
    );
  }
}
