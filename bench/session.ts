/** Signing in over HTTP as a browser does, for the load generator to reuse the session cookie. */

function cookieOf(res: Response): string | null {
  const raw = res.headers.getSetCookie().find((c) => c.startsWith('ops.sid='));
  return raw ? raw.split(';')[0] : null;
}

export async function login(baseUrl: string, email: string, password: string): Promise<string> {
  const page = await fetch(`${baseUrl}/login`);
  const html = await page.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  // Whatever cookie binds the form's token (a session, or a double-submit cookie) goes back with it.
  const formCookies = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  if (!csrf || !formCookies) throw new Error(`no login form at ${baseUrl}/login (${page.status})`);
  const res = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: formCookies },
    body: new URLSearchParams({ email, password, _csrf: csrf }).toString(),
  });
  await res.arrayBuffer();
  if (res.status !== 303) throw new Error(`login as ${email} failed: HTTP ${res.status}`);
  const cookie = cookieOf(res) ?? cookieOf(page);
  if (!cookie) throw new Error(`login as ${email} set no session cookie`);
  return cookie;
}

/** One GET that must answer 200; returns the body, for checks that a page really renders what we think. */
export async function getOk(baseUrl: string, path: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(baseUrl + path, { headers, redirect: 'manual' });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${body.slice(0, 300)}`);
  return body;
}
