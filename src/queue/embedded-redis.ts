import { execFileSync } from 'node:child_process';
import { RedisMemoryServer } from 'redis-memory-server';

export interface RedisHandle {
  url: string;
  /** Stops the server this process started; a no-op for a Redis the user pointed us at. */
  stop(): Promise<void>;
  embedded: boolean;
}

function findRedisServer(): string {
  const fromEnv = process.env.REDISMS_SYSTEM_BINARY;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'REDIS_URL is not set and no redis-server binary is on PATH: install Redis (e.g. apt install redis-server) or set REDIS_URL',
    );
  }
}

/**
 * The embedded default: when REDIS_URL is unset, this process starts its own redis-server on a free
 * loopback port (nothing kept on disk) and stops it on exit. A Redis the user configured is never started
 * or stopped here.
 */
export async function resolveRedis(redisUrl: string | undefined): Promise<RedisHandle> {
  if (redisUrl) return { url: redisUrl, embedded: false, stop: async () => undefined };
  const server = await RedisMemoryServer.create({
    binary: { systemBinary: findRedisServer() },
    instance: { ip: '127.0.0.1' },
  });
  const url = `redis://${await server.getHost()}:${await server.getPort()}`;
  return {
    url,
    embedded: true,
    stop: async () => {
      await server.stop();
    },
  };
}
