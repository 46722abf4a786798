/**
 * The bench's bare baseline: NestJS 11 on Express with the app's own packages and nothing else — no
 * session, no database, Nest's logger off — serving `GET /hello` (JSON) and `GET /rows` (a 25-row
 * Handlebars table in a layout, with a partial and a helper, view cache on). Started by
 * `bench/server-process.ts` like the app: its own process, NODE_ENV=production, PORT and HOST from the
 * environment.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import hbs from 'hbs';
import { join } from 'node:path';
import { BareController } from './bare.controller';

@Module({ controllers: [BareController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(BareModule, { logger: false });
  const views = join(__dirname, 'views');
  app.setBaseViewsDir(views);
  app.setViewEngine('hbs');
  app.set('view options', { layout: 'layout' });
  app.set('view cache', true);
  hbs.registerHelper('num', (n: unknown) => Number(n).toLocaleString('en-US'));
  await new Promise<void>((resolve) => hbs.registerPartials(join(views, 'partials'), () => resolve()));
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
