import { execFileSync } from 'node:child_process';
import os from 'node:os';
import Redis from 'ioredis';
import type { BenchBackends } from './backends';

export interface MachineInfo {
  date: string;
  nproc: string;
  cpu: string;
  free: string;
  kernel: string;
  node: string;
  mariadb: string;
  bufferPool: string;
  flushAtCommit: string;
  redis: string;
  loadStart: string;
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trimEnd();
  } catch {
    return '(unavailable)';
  }
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

export async function machineInfo(b: BenchBackends): Promise<MachineInfo> {
  const conn = await b.admin();
  const [[v]]: any = await conn.query('SELECT VERSION() AS v');
  const [vars]: any = await conn.query(
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('innodb_buffer_pool_size', 'innodb_flush_log_at_trx_commit')",
  );
  await conn.end();
  const varOf = (name: string) => String(vars.find((r: any) => r.Variable_name === name)?.Value ?? '?');
  const r = new Redis(b.redisUrl, { maxRetriesPerRequest: 2 });
  const info = await r.info('server');
  await r.quit();
  return {
    date: new Date().toISOString(),
    nproc: run('nproc', []),
    cpu: os.cpus()[0]?.model ?? '?',
    free: run('free', ['-g']),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    mariadb: String(v.v),
    bufferPool: `${Math.round(Number(varOf('innodb_buffer_pool_size')) / 1024 / 1024)} MB`,
    flushAtCommit: varOf('innodb_flush_log_at_trx_commit'),
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
    loadStart: loadAverage(),
  };
}
