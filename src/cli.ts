import { CommandFactory } from 'nest-commander';
import { CliModule } from './cli/index';
import { AppError } from './common/app-error';
import { ConfigError, loadConfig } from './config/app-config';
import { embeddedRedisNote, readEmbeddedRedis } from './queue/embedded-redis';

/**
 * `npm run cli -- <command>`: create-admin, reset-password, deactivate-user, list-tenants. Uses the
 * same configuration (DATABASE_URL…) as the app; prints a readable line and exits 1 on a refusal.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  // On the embedded default, the running app's own redis-server (if it noted one): the CLI announces
  // its changes there, so that app drops what it kept of a deactivated user at once.
  const redisUrl = config.redisUrl ?? readEmbeddedRedis(embeddedRedisNote(config.database));
  await CommandFactory.run(CliModule.forRoot({ ...config, redisUrl, runsWeb: false, runsWorker: false }), {
    logger: ['error'],
    cliName: 'npm run cli --',
    errorHandler: (err) => {
      // Commander's own exits (help, unknown command) have printed their message already.
      const code = (err as { exitCode?: number }).exitCode;
      process.exit(code ?? 1);
    },
    serviceErrorHandler: (err) => fail(err instanceof AppError ? err.message : `Failed: ${err.message}`),
  });
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

void main().catch((e: unknown) => fail(`Failed: ${e instanceof Error ? e.message : String(e)}`));
