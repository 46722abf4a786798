/**
 * The drift section's own process (forked by sections/drift.ts once the snapshots are written): boots
 * the app, measures one drift.generate and sends the figures back over IPC.
 */
import { bootApp } from './app';
import { FULL, SMOKE } from './context';
import { DriftChildInput, DriftChildMessage, measureDrift, profileDriftAgain } from './sections/drift';

async function main(): Promise<void> {
  const input = JSON.parse(process.env.BENCH_DRIFT_INPUT ?? '{}') as DriftChildInput;
  const send = (m: DriftChildMessage) => new Promise<void>((r) => process.send!(m, () => r()));
  const app = await bootApp(
    { databaseUrl: input.databaseUrl, redisUrl: input.redisUrl, appPrefix: input.prefix },
    10,
  );
  try {
    const ctx = {
      sizes: input.smoke ? SMOKE : FULL,
      app,
      benchUserId: input.benchUserId,
      log: (msg: string) =>
        process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] [drift process] ${msg}\n`),
    };
    const result = await measureDrift(ctx, input.snapshots);
    const missed = result.figures.some((f) => f.pass === false);
    const profile = input.profile || missed ? await profileDriftAgain(ctx) : undefined;
    await send({ ok: true, result, profile });
  } catch (e) {
    await send({ ok: false, error: (e as Error).stack ?? String(e) });
  } finally {
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
