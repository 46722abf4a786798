import { appPino, logFormat, LogOutput, prettyLine } from './app-logger';

function capture(isTTY: boolean | undefined): LogOutput & { lines: string[] } {
  const lines: string[] = [];
  return { isTTY, lines, write: (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)) };
}

const ESC = String.fromCharCode(27);
const plain = (s: string) => s.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

describe('console logging', () => {
  it('writes readable lines to a terminal and JSON lines anywhere else', () => {
    expect(logFormat({ isTTY: true })).toBe('pretty');
    expect(logFormat({ isTTY: false })).toBe('json');
    expect(logFormat({})).toBe('json');
  });

  it('JSON when not a terminal: one parseable object per line', () => {
    const out = capture(false);
    const log = appPino('info', out);
    log.info({ context: 'RunExecutor', runId: 7 }, 'run handler finished');
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0])).toMatchObject({ level: 30, context: 'RunExecutor', runId: 7 });
  });

  it('on a terminal: one coloured line per request (method path status time user tenant)', () => {
    const out = capture(true);
    const log = appPino('info', out);
    log.info(
      {
        method: 'GET',
        url: '/admin/t/contoso/operations',
        status: 200,
        responseTime: 12.3,
        userId: 3,
        tenant: 'contoso',
      },
      'request completed',
    );
    log.info({ method: 'POST', url: '/login', status: 403, responseTime: 4 }, 'request completed');
    expect(out.lines).toHaveLength(2);
    expect(out.lines[0]).toContain(`${ESC}[`);
    expect(plain(out.lines[0])).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}GET \/admin\/t\/contoso\/operations 200 12\.3 ms user 3 contoso$/,
    );
    expect(plain(out.lines[1])).toMatch(/INFO {2}POST \/login 403 4 ms$/);
    // Status colours: 2xx green, 4xx yellow.
    expect(out.lines[0]).toContain(`${ESC}[32m200`);
    expect(out.lines[1]).toContain(`${ESC}[33m403`);
  });

  it('on a terminal: one line per other record, with context, message, fields and a safe error', () => {
    const out = capture(true);
    const log = appPino('info', out);
    log.info({ context: 'RunExecutor', runId: 1, type: 'inventory.sync' }, 'run handler finished');
    log.warn(
      { context: 'ViewLocals', err: new Error('token=abc123secret failed'), path: '/x' },
      'part failed',
    );
    log.debug('not shown at info');
    expect(out.lines).toHaveLength(2);
    expect(plain(out.lines[0])).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[RunExecutor\] run handler finished runId=1 type=inventory\.sync$/,
    );
    expect(plain(out.lines[1])).toMatch(/WARN {2}\[ViewLocals\] part failed Error: .* path=\/x$/);
    expect(out.lines[1]).not.toContain('abc123secret');
  });

  it('NO_COLOR-style output stays one readable line', () => {
    const line = prettyLine(
      {
        level: 50,
        time: Date.UTC(2026, 11, 2, 8, 0, 0, 5),
        msg: 'request failed',
        context: 'HttpError',
        status: 500,
      },
      false,
    );
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.005 ERROR \[HttpError\] request failed status=500$/);
  });
});
