import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bull';
import express from 'express';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import responseTime from 'response-time';

export interface BoardServer {
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * Bull Board over one queue on an Express server of its own, as it is deployed when nothing else
 * shares it: none of the hub's middleware (sessions, helmet, CSRF) in front of it. Views are cached as
 * in production (the sub-app the adapter mounts inherits the setting), and X-Response-Time gives the
 * same server-side time the hub reports.
 */
export async function startBoardServer(queue: Queue): Promise<BoardServer> {
  const adapter = new ExpressAdapter();
  createBullBoard({ queues: [new BullAdapter(queue)], serverAdapter: adapter });
  const app = express();
  app.set('view cache', true);
  app.use(responseTime({ digits: 3 }));
  app.use(adapter.getRouter());
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
