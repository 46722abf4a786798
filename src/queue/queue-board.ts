import { BullAdapter } from '@bull-board/api/bullAdapter';
import type { ExpressAdapter } from '@bull-board/express';
import { BULL_BOARD_ADAPTER, BullBoardInstance, InjectBullBoard } from '@bull-board/nestjs';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type { Express, Request } from 'express';

/**
 * Who may open the Bull board; provided by the auth module (the queue module knows no users). It keeps
 * the signed-in user on the request, so that a refusal's 404 page is drawn in that user's layout.
 */
export const QUEUE_BOARD_GATE = Symbol('QUEUE_BOARD_GATE');
export type QueueBoardGate = (req: Request) => Promise<boolean>;

export const QUEUE_BOARD_ROUTE = '/admin/queues';

/** The board's own settings: a way back to the hub in its menu, no link out to bull-board's site. */
export const QUEUE_BOARD_UI = {
  boardTitle: 'Operations Hub',
  miscLinks: [{ text: 'Back to the hub', url: '/admin' }],
  hideDocsLink: true,
};

/** The stylesheet link to Google Fonts in the board's page (its fonts fall back to the system's). */
const EXTERNAL_FONTS = /<link\b[^>]*\bhref="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^"]*"[^>]*>\s*/g;

export function withoutExternalFonts(html: string): string {
  return html.replace(EXTERNAL_FONTS, '');
}

type RenderFile = (
  path: string,
  options: object,
  callback: (err: Error | null, html?: string) => void,
) => void;

/**
 * The board's page (its index.ejs) asks Google Fonts for its typeface, which the app's CSP refuses
 * (and which would tell Google who opens the board). The adapter's own express app renders that page:
 * its template engine is wrapped so the link is removed from what it renders.
 */
export function stripExternalFonts(adapter: ExpressAdapter): void {
  const app = adapter.getRouter() as Express & { engines?: Record<string, RenderFile> };
  const render = app.engines?.['.ejs'];
  if (!render) throw new Error('The Bull board renders no .ejs page: its font link cannot be removed.');
  app.engine('ejs', (path, options, callback) =>
    render(path, options, (err, html) =>
      err ? callback(err) : callback(null, withoutExternalFonts(html ?? '')),
    ),
  );
}

/** The Bull board mounted by this app; the hub adds every producer queue to it at boot. */
@Injectable()
export class QueueBoard {
  private readonly added = new Set<string>();

  constructor(
    @InjectBullBoard() private readonly board: BullBoardInstance,
    @Inject(BULL_BOARD_ADAPTER) adapter: ExpressAdapter,
  ) {
    stripExternalFonts(adapter);
  }

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
