import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigError, loadConfig } from './config/app-config';
import {
  embeddedRedisNote,
  forgetEmbeddedRedis,
  launchRedis,
  noteEmbeddedRedis,
} from './queue/embedded-redis';

/** Past the grace period for running jobs (handed back then), what closing connections may still take. */
const SHUTDOWN_MARGIN_MS = 4000;
/** The start banner waits for this much silence in the log, and no longer than the maximum. */
const START_QUIET_MS = 400;
const START_QUIET_MAX_MS = 3000;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  // `npm start` is the production path: Express's production behaviour unless told otherwise.
  process.env.NODE_ENV ??= 'production';
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }

  // The embedded redis-server starts in its own process while this one loads the app's modules
  // (most of the start-up time), so only the modules that start it are loaded before it.
  const launched = await launchRedis(config.redisUrl).catch((e: Error) =>
    fail(`Cannot start Redis: ${e.message}`),
  );
  const [
    { NestFactory },
    { AppModule },
    { configureApp },
    { AppLogger, flushLog, logQuiet },
    { DEMO_USERS },
  ] = await Promise.all([
    import('@nestjs/core'),
    import('./app.module'),
    import('./bootstrap'),
    import('./common/app-logger'),
    import('./demo'),
  ]);
  const redis = await launched.ready.catch((e: Error) => fail(`Cannot start Redis: ${e.message}`));
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ ...config, redisUrl: redis.url }),
    { bufferLogs: true, bodyParser: false, abortOnError: false },
  ).catch(async (e: Error) => {
    await redis.stop();
    fail(`Cannot start: ${e.message.split('\n')[0]}`);
  });
  app.useLogger(app.get(AppLogger));
  await configureApp(app, config);
  // The command line finds this app's CacheBus through this note (see embeddedRedisNote).
  const note = redis.embedded ? embeddedRedisNote(config.database) : undefined;
  noteEmbeddedRedis(note, redis.url);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    // Running jobs get SHUTDOWN_GRACE_MS to reach a batch boundary and are then handed back to the
    // queue (RunExecutor); this timer only catches a close that hangs on something else.
    const limit = config.queue.shutdownGraceMs + SHUTDOWN_MARGIN_MS;
    const timer = setTimeout(() => {
      process.stderr.write(`Shutdown took longer than ${limit} ms; exiting\n`);
      void redis.stop().finally(() => process.exit(1));
    }, limit);
    timer.unref();
    try {
      await app.close();
    } finally {
      forgetEmbeddedRedis(note);
      await redis.stop();
      process.stdout.write(`Stopped on ${signal}\n`);
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen(config.port, config.host).catch(async (e: Error) => {
    await redis.stop();
    fail(`Cannot start: ${e.message.split('\n')[0]}`);
  });
  // The banner comes after the start-up noise (buffered framework lines, the demo seed and its first
  // syncs, schedules), so it is the last thing on the screen: once the log has been quiet for a moment.
  app.flushLogs();
  await logQuiet(START_QUIET_MS, START_QUIET_MAX_MS);
  await flushLog();
  const address = app.getHttpServer().address();
  const url = `http://localhost:${typeof address === 'object' && address ? address.port : config.port}`;
  const lines = [
    `Tenant Operations Hub (${config.role}) listening on ${url} (started in ${process.uptime().toFixed(1)} s)`,
    `  database: ${config.database.type === 'sqlite' ? `SQLite ${config.database.file}` : 'MySQL'}`,
    `  redis:    ${redis.embedded ? `embedded redis-server at ${redis.url}` : 'external (REDIS_URL)'}`,
  ];
  if (config.demoSeed && config.runsWeb) {
    lines.push(`  demo logins (password "${config.demoPassword}"):`);
    for (const u of DEMO_USERS)
      lines.push(
        `    ${u.email.padEnd(22)} ${Object.entries(u.roles)
          .map(([t, r]) => `${r}@${t}`)
          .join(', ')}${u.isOps ? ', ops' : ''}`,
      );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
