import { AuthService } from '../../src/auth';
import { BackupSetsService } from '../../src/backup-sets';
import { DemoPolicySource } from '../../src/demo';
import { InventoryService } from '../../src/inventory';
import { RunActionsService, RunsService } from '../../src/runs';
import { waitForTerminal } from '../factories/flows';
import { pauseAllQueues } from '../factories/routes';
import { createTestApp, demoActors, TestApp } from '../factories/test-app';
import { waitFor } from '../factories/wait';
import { SampleProducerModule } from '../fixtures/sample-producer.module';

/**
 * Where MySQL and SQLite used to behave differently under concurrency, and what each now does the
 * same way on both.
 */

describe('a transaction rolled back on the single SQLite connection takes nothing else with it', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ imports: [SampleProducerModule] });
  });
  afterAll(() => t?.close());

  it("cancelling a run during its batch leaves another run's finish standing", async () => {
    const { contoso } = await demoActors(t);
    const adminId = (await t.get<AuthService>(AuthService).findByEmail('admin@example.com'))!.id;
    await pauseAllQueues(t);
    const runs = t.get<RunsService>(RunsService);
    const start = async (items: string[]) =>
      (await runs.start({ tenantId: contoso, userId: null, type: 'sample.echo', itemIds: items })).run;
    const a = await start(['a1', 'a2']);
    const b = await start(['b1']);
    await runs.markRunning(a.id, `run-${a.id}`, 1);
    await runs.markRunning(b.id, `run-${b.id}`, 1);
    await runs.recordItems(b.id, { succeeded: 1, failed: 0, skipped: 0 }, []);

    // A's batch holds its transaction open (a producer writing its rows) until the gate opens.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let inBatch!: () => void;
    const batchStarted = new Promise<void>((resolve) => (inBatch = resolve));
    const batch = runs
      .recordItems(a.id, { succeeded: 1, failed: 0, skipped: 0 }, [], async () => {
        inBatch();
        await gate;
      })
      .then(
        () => 'committed',
        (e: Error) => e.constructor.name,
      );
    await batchStarted;

    // Meanwhile an operator cancels A and B's worker finishes B.
    const cancel = t
      .get<RunActionsService>(RunActionsService)
      .cancel(contoso, a.id, { id: adminId, name: 'Avery Admin' });
    const finish = runs.finish(b.id);
    await new Promise((r) => setTimeout(r, 50));
    open();

    await batch;
    await Promise.all([cancel, finish]);
    const [afterA, afterB] = await Promise.all([runs.findById(a.id), runs.findById(b.id)]);
    expect(afterB!.status).toBe('completed');
    expect(afterB!.succeeded).toBe(1);
    expect(afterA!.status).toBe('aborted');
  });
});

describe('a backup set deleted while policies are being added to it', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('ends the run failed (not_found) and counts nothing as captured that was not stored, on either database', async () => {
    const { contoso } = await demoActors(t);
    const demo = t.get<DemoPolicySource>(DemoPolicySource);
    await demo.setSize(contoso, 40);
    const sync = await t.get<InventoryService>(InventoryService).startSync(contoso, null);
    expect((await waitForTerminal(t, sync.run.id)).statusBucket).toBe('succeeded');
    const sets = t.get<BackupSetsService>(BackupSetsService);
    const setId = await sets.create(contoso, 1, 'Going away', null);
    const ids = (
      (await t.dataSource.query(
        'SELECT id FROM policies WHERE tenant_id = ? AND removed_at IS NULL ORDER BY id',
        [contoso],
      )) as Array<{ id: number }>
    )
      .slice(0, 10)
      .map((r) => Number(r.id));

    // Reading the policies upstream takes a while: long enough to delete the set meanwhile.
    await demo.setLatency(contoso, 1500);
    const { run } = await sets.startAddPolicies(contoso, 1, setId, ids);
    const runs = t.get<RunsService>(RunsService);
    await waitFor(async () => (await runs.findById(run.id))?.status === 'running', 'the run to start');
    await sets.delete(contoso, setId);
    await demo.setLatency(contoso, 0);

    const done = await waitForTerminal(t, run.id);
    const stored = Number(
      (await t.dataSource.query('SELECT COUNT(*) AS n FROM backup_items WHERE run_id = ?', [run.id]))[0].n,
    );
    expect({ status: done.status, succeeded: done.succeeded, stored }).toEqual({
      status: 'failed',
      succeeded: stored,
      stored: 0,
    });
    expect(done.failures![0]).toMatchObject({ item_id: null, reason_code: 'not_found' });
    expect(done.failures![0].message).toContain('deleted');
  });
});
