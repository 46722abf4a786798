import { AppError } from '../common/app-error';
import {
  appendFailures,
  classifyError,
  digestFailures,
  isReasonCode,
  MAX_FAILURE_MESSAGE,
  MAX_FAILURES_PER_RUN,
  REASON_CODES,
  REASON_LABELS,
  ReasonCode,
  redactSecrets,
  RunFailure,
  sanitizeError,
  sanitizeMessage,
  toFailure,
} from './failure-sanitizer';

// Well-known public sample values: the jwt.io token, Azurite's account key, AWS's documentation key.
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const AZURE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const AWS_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const HEX_TOKEN = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const POLICY_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const TENANT_ID = '7C9E6679-7425-40DE-944B-E07FC1F90AE7';

const FRAME_LINE = '    at InventoryService.sync (/app/dist/inventory/inventory.service.js:88:23)';
const FIVE_KB_STACK = ['Error: Graph request failed', ...Array<string>(70).fill(FRAME_LINE)].join('\n');

/** What a V8 stack frame looks like once glued into a line; a bare `at 10:30` is not one. */
const STACK_FRAME = /\bat\s+(?:async\s+)?(?:\S+\s+\()?\S*[./\\]\S*:\d+:\d+/;

function errorWithStack(message: string, stack: string): Error {
  const error = new Error(message);
  error.stack = stack;
  return error;
}

function codePoints(s: string): number {
  return Array.from(s).length;
}

function expectDisplayable(out: string): void {
  expect(out).not.toBe('');
  expect(out).toBe(out.trim());
  expect(out).not.toMatch(/[\r\n\u2028\u2029]/);
  expect(out).not.toMatch(/\p{Cc}/u);
  expect(out).not.toMatch(/\p{Cs}/u);
  expect(out.toLowerCase()).not.toContain('<script');
  expect(out).not.toMatch(STACK_FRAME);
  expect(codePoints(out)).toBeLessThanOrEqual(MAX_FAILURE_MESSAGE);
}

interface HostileCase {
  name: string;
  input: unknown;
  /** Substrings that must not survive: secrets, markup, stack frames. */
  absent: string[];
  /** The exact output, where one readable answer is obvious. */
  expected?: string;
}

const corpus: HostileCase[] = [
  // Stacks
  {
    name: 'a multi-line Node stack passed as a string',
    input: `Error: boom\n${FRAME_LINE}\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`,
    absent: ['\n', ' at ', 'inventory.service.js'],
    expected: 'Error: boom',
  },
  {
    name: 'an Error whose stack holds a secret',
    input: errorWithStack(
      'Graph call failed',
      `Error: Graph call failed\n${FRAME_LINE} token=s3cr3tStackToken`,
    ),
    absent: ['s3cr3tStackToken', ' at '],
    expected: 'Graph call failed',
  },
  {
    name: 'a 5 kB stack',
    input: FIVE_KB_STACK,
    absent: ['\n', ' at ', 'inventory.service.js'],
    expected: 'Error: Graph request failed',
  },
  {
    name: 'stack frames glued into one line',
    input:
      "TypeError: Cannot read properties of undefined (reading 'id') at PolicyMapper.map (/app/dist/inventory/policy-mapper.js:42:17) at Array.map (<anonymous>) at async InventoryService.sync (/app/dist/x.js:1:2)",
    absent: [' at ', 'policy-mapper.js', '<anonymous>'],
    expected: "TypeError: Cannot read properties of undefined (reading 'id')",
  },
  {
    name: 'a stack whose first line is a frame',
    input: `${FRAME_LINE}\nPolicy sync failed`,
    absent: [' at ', 'inventory.service.js'],
    expected: 'Policy sync failed',
  },
  {
    name: 'CRLF line breaks',
    input: 'First line\r\nSecond line password=p4ss',
    absent: ['\r', 'Second', 'p4ss'],
    expected: 'First line',
  },
  {
    name: 'a Unicode line separator',
    input: 'Upload rejected\u2028password=p4ss',
    absent: ['\u2028', 'p4ss'],
    expected: 'Upload rejected',
  },
  // Size
  {
    name: 'a 10 kB single-line string',
    input: `Request failed: ${'lorem ipsum '.repeat(850)}`,
    absent: ['\n'],
  },
  {
    name: 'a 10 kB string with no whitespace',
    input: 'x'.repeat(10_240),
    absent: [],
    expected: `${'x'.repeat(MAX_FAILURE_MESSAGE - 1)}…`,
  },
  {
    name: 'a password whose value straddles the 200 boundary',
    input: `${'x '.repeat(95)}password=Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9`,
    absent: ['Zq9'],
  },
  {
    name: 'an AWS-style key straddling the 200 boundary',
    input: `${'word '.repeat(38)}${AWS_SECRET_KEY}`,
    absent: ['wJalr', 'EXAMPLEKEY'],
  },
  // Markup
  {
    name: 'a script tag',
    input: '<script>alert(1)</script>',
    absent: ['<script', '</script>'],
    expected: 'alert(1)',
  },
  {
    name: 'a tag split so one pass of stripping rebuilds it',
    input: '<scr<script>ipt>alert(document.cookie)</script>',
    absent: ['<script', '<scr'],
    expected: 'alert(document.cookie)',
  },
  {
    name: 'an HTML error page from a gateway',
    input: '<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502</h1></body></html>',
    absent: ['<html', '<title', '<h1'],
    expected: '502 Bad Gateway',
  },
  {
    name: 'an event-handler attribute',
    input: '<img src=x onerror="alert(1)">Policy <b>Baseline</b> failed',
    absent: ['onerror', '<img', '<b>'],
    expected: 'Policy Baseline failed',
  },
  {
    name: 'a tag cut off before its closing bracket',
    input: 'Upload failed <script src=//evil.example/x.js',
    absent: ['<script', 'evil.example'],
    expected: 'Upload failed',
  },
  // Database text
  {
    name: 'a MySQL duplicate-key error',
    input: "QueryFailedError: ER_DUP_ENTRY: Duplicate entry 'abc' for key 'IDX_run_dedupe'",
    absent: [],
    expected: "QueryFailedError: ER_DUP_ENTRY: Duplicate entry 'abc' for key 'IDX_run_dedupe'",
  },
  {
    name: 'an SQL syntax error echoing an injection attempt',
    input: `SQLITE_ERROR: near "DROP": syntax error in SELECT * FROM tenants WHERE name = '' OR 1=1; DROP TABLE runs; --`,
    absent: ['\n'],
    expected: `SQLITE_ERROR: near "DROP": syntax error in SELECT * FROM tenants WHERE name = '' OR 1=1; DROP TABLE runs; --`,
  },
  // Unicode and control characters
  {
    name: 'emoji and typographic quotes',
    input: 'Policy 🔒 “Baseline” failed ✅',
    absent: [],
    expected: 'Policy 🔒 “Baseline” failed ✅',
  },
  {
    name: 'right-to-left text',
    input: 'فشل تحديث السياسة policy-42',
    absent: [],
    expected: 'فشل تحديث السياسة policy-42',
  },
  {
    name: 'a bidi override that would reverse what follows',
    input: 'Attachment \u202Egnp.exe rejected',
    absent: ['\u202E'],
    expected: 'Attachment gnp.exe rejected',
  },
  {
    name: 'combining marks',
    input: 'Zalgo: Z̷̢̛a̶l̸g̵o̴',
    absent: [],
    expected: 'Zalgo: Z̷̢̛a̶l̸g̵o̴',
  },
  {
    name: 'one letter under 500 combining marks',
    input: `e${'\u0301'.repeat(500)}`,
    absent: [],
    expected: `e${'\u0301'.repeat(MAX_FAILURE_MESSAGE - 2)}…`,
  },
  {
    name: 'an emoji whose surrogate pair straddles the boundary',
    input: `${'a'.repeat(199)}😀b`,
    absent: ['\uD83D'],
    expected: `${'a'.repeat(199)}…`,
  },
  {
    name: 'an emoji that just fits before the cut',
    input: `${'a'.repeat(198)}😀${'b'.repeat(10)}`,
    absent: ['b'],
    expected: `${'a'.repeat(198)}😀…`,
  },
  {
    name: 'an emoji ZWJ sequence straddling the boundary',
    input: `${'a'.repeat(195)}👨‍👩‍👧‍👦tail`,
    absent: ['👨', '\u200D', 'tail'],
    expected: `${'a'.repeat(195)}…`,
  },
  {
    name: 'null bytes, bells, tabs and ANSI colours',
    input: 'Sync\u0000 failed\u0007 for\ttenant \u001b[31mred\u001b[0m',
    absent: ['\u0000', '\u0007', '\t', '\u001b', '[31m'],
    expected: 'Sync failed for tenant red',
  },
  {
    name: 'a lone surrogate',
    input: 'bad \uD800 surrogate',
    absent: ['\uD800'],
    expected: 'bad surrogate',
  },
  {
    name: 'a null byte splitting a key name',
    input: 'Rejected: pass\u0000word=hunter2',
    absent: ['hunter2'],
    expected: 'Rejected: password=[redacted]',
  },
  // Secrets
  {
    name: 'a bearer token',
    input: 'Request failed: Authorization header "Bearer abc.def-ghi_jkl" rejected',
    absent: ['abc.def', 'ghi_jkl'],
    expected: 'Request failed: Authorization header "Bearer [redacted]" rejected',
  },
  {
    name: 'a lower-case bearer token',
    input: 'upstream said: bearer sk_live_51HxYzAbC is revoked',
    absent: ['sk_live', '51HxYzAbC'],
    expected: 'upstream said: Bearer [redacted] is revoked',
  },
  {
    name: 'an Authorization header carrying a JWT',
    input: `Authorization: Bearer ${JWT}`,
    absent: ['eyJ', 'SflKxwRJ'],
    expected: 'Authorization: [redacted]',
  },
  {
    name: 'a bare JWT',
    input: `Invalid token ${JWT} for tenant contoso`,
    absent: ['eyJ', 'SflKxwRJ', 'IkpXVCJ9'],
    expected: 'Invalid token [redacted] for tenant contoso',
  },
  {
    name: 'password=',
    input: 'Login failed: password=hunter2 for user admin',
    absent: ['hunter2'],
    expected: 'Login failed: password=[redacted] for user admin',
  },
  {
    name: 'secret= in a query string',
    input: 'secret=s3cr3t-value&foo=bar',
    absent: ['s3cr3t'],
    expected: 'secret=[redacted]&foo=bar',
  },
  {
    name: 'token= in a URL',
    input: 'GET /callback?code=1&token=tok_abc123XYZ failed',
    absent: ['tok_abc123XYZ'],
    expected: 'GET /callback?code=1&token=[redacted] failed',
  },
  {
    name: 'client_secret= with an Entra ID secret',
    input: 'AADSTS7000215: Invalid client secret provided. client_secret=Abc8Q~dEf.GhI-jkl_MNO',
    absent: ['Abc8Q', 'GhI-jkl'],
    expected: 'AADSTS7000215: Invalid client secret provided. client_secret=[redacted]',
  },
  {
    name: 'a JSON password',
    input: '{"username":"admin","password":"hunter2"}',
    absent: ['hunter2'],
    expected: '{"username":"admin","password":"[redacted]"}',
  },
  {
    name: 'a JSON body escaped inside a string',
    input: 'Bad request body: {\\"client_secret\\": \\"hunter2\\"}',
    absent: ['hunter2'],
  },
  {
    name: 'many key shapes on one line',
    input:
      'apikey=v01 api_key: v02 key=v03 pwd=v04 passwd=v05 access_token=v06 refresh_token=v07 id_token=v08 signature=v09 sig=v10 x-api-key=v11 clientSecret=v12',
    absent: ['v01', 'v02', 'v03', 'v04', 'v05', 'v06', 'v07', 'v08', 'v09', 'v10', 'v11', 'v12'],
  },
  {
    name: 'MySQL URL credentials',
    input: 'connect ECONNREFUSED mysql://root:hunter2@db:3306/hub',
    absent: ['root', 'hunter2'],
    expected: 'connect ECONNREFUSED mysql://[redacted]@db:3306/hub',
  },
  {
    name: 'Redis URL credentials',
    input: 'Redis connection to redis://default:s3cretPass@cache:6379/0 failed',
    absent: ['s3cretPass', 'default:'],
    expected: 'Redis connection to redis://[redacted]@cache:6379/0 failed',
  },
  {
    name: 'a Redis password holding an unencoded slash',
    input: 'rediss://:abc/def+ghi=@cache.example.net:6380',
    absent: ['abc', 'def+ghi'],
    expected: 'rediss://[redacted]@cache.example.net:6380',
  },
  {
    name: 'HTTPS URL credentials',
    input: 'GET https://admin:P%40ssw0rd@api.example.com/v1 returned 401',
    absent: ['admin', 'P%40ssw0rd'],
    expected: 'GET https://[redacted]@api.example.com/v1 returned 401',
  },
  {
    name: 'a token as URL user',
    input: 'clone https://ghp_abcdef123@github.com/org/repo.git failed',
    absent: ['ghp_abcdef123'],
    expected: 'clone https://[redacted]@github.com/org/repo.git failed',
  },
  {
    name: 'AMQP URL credentials',
    input: 'amqp://guest:guest@rabbit:5672 refused',
    absent: ['guest'],
    expected: 'amqp://[redacted]@rabbit:5672 refused',
  },
  {
    name: 'an ADO connection string with a spaced password',
    input: 'Server=tcp:sql.example.net,1433;Initial Catalog=hub;User Id=sa;Password=P@ss w0rd!;Encrypt=True;',
    absent: ['P@ss', 'w0rd'],
    expected:
      'Server=tcp:sql.example.net,1433;Initial Catalog=hub;User Id=sa;Password=[redacted];Encrypt=True;',
  },
  {
    name: 'an ODBC connection string with a braced password',
    input: 'Driver={ODBC Driver 18};Server=db;UID=sa;PWD={p;w d};',
    absent: ['p;w', 'w d'],
    expected: 'Driver={ODBC Driver 18};Server=db;UID=sa;PWD=[redacted];',
  },
  {
    name: 'an Azure storage connection string',
    input: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${AZURE_ACCOUNT_KEY};EndpointSuffix=core.windows.net`,
    absent: ['Eby8vdM02', 'GMGw=='],
    expected:
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[redacted];EndpointSuffix=core.windows.net',
  },
  {
    name: 'an Azure SAS URL',
    input:
      'PUT https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sp=rw&sig=AbCdEf%2BgHiJk%2FlMn0pQr%3D failed with 403',
    absent: ['AbCdEf', 'lMn0pQr'],
    expected:
      'PUT https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sp=rw&sig=[redacted] failed with 403',
  },
  {
    name: 'a bare AWS-style 40-character secret key',
    input: `The request signature we calculated does not match. aws_secret_access_key ${AWS_SECRET_KEY}`,
    absent: ['wJalr', 'K7MDENG', 'EXAMPLEKEY'],
    expected: 'The request signature we calculated does not match. aws_secret_access_key [redacted]',
  },
  {
    name: 'a bare 64-hex token',
    input: `Webhook rejected with token ${HEX_TOKEN}`,
    absent: ['9f86d0', '0f00a08'],
    expected: 'Webhook rejected with token [redacted]',
  },
  // Values that are not strings
  {
    name: 'an Error with a cause holding a secret',
    input: new Error('Sync failed', { cause: new Error('password=hunter2') }),
    absent: ['hunter2'],
    expected: 'Sync failed',
  },
  {
    name: 'an Error with an empty message',
    input: new TypeError(''),
    absent: [],
    expected: 'TypeError',
  },
  {
    name: 'a plain object with secrets in its fields and toString',
    input: { password: 'hunter2', toString: () => 'password=hunter2' },
    absent: ['hunter2', 'password'],
    expected: 'Unexpected non-error value',
  },
  {
    name: 'an error-like object from another realm',
    input: { name: 'GraphError', message: 'Forbidden\n    at x (/app/x.js:1:1)', status: 403 },
    absent: [' at '],
    expected: 'Forbidden',
  },
  {
    name: 'an object whose message getter throws',
    input: Object.defineProperty({}, 'message', {
      get() {
        throw new Error('hostile getter');
      },
    }),
    absent: ['hostile'],
    expected: 'Unexpected non-error value',
  },
  { name: 'null', input: null, absent: [], expected: 'Unknown error' },
  { name: 'undefined', input: undefined, absent: [], expected: 'Unknown error' },
  { name: 'a number', input: 42, absent: [], expected: '42' },
  {
    name: 'only whitespace and control characters',
    input: ' \n\t\u0000 ',
    absent: [],
    expected: 'Unknown error',
  },
  { name: 'only markup', input: '<br/>\n<hr>', absent: [], expected: 'Unknown error' },
];

describe('sanitizeMessage', () => {
  describe.each(corpus)('$name', ({ input, absent, expected }) => {
    const out = sanitizeMessage(input);

    it('is one displayable line of at most 200 code points', () => {
      expectDisplayable(out);
    });

    it('keeps nothing it must not', () => {
      for (const fragment of absent) expect(out).not.toContain(fragment);
    });

    if (expected !== undefined) {
      it('gives the expected text', () => {
        expect(out).toBe(expected);
      });
    }
  });

  it('marks a cut with an ellipsis and fills the budget exactly', () => {
    const out = sanitizeMessage(`Request failed: ${'lorem ipsum '.repeat(850)}`);
    expect(out).toBe(`Request failed: ${'lorem ipsum '.repeat(15)}lor…`);
    expect(codePoints(out)).toBe(MAX_FAILURE_MESSAGE);
  });

  it('redacts before it truncates, so a cut key is gone rather than half shown', () => {
    expect(sanitizeMessage(`${'word '.repeat(38)}${AWS_SECRET_KEY}`)).toBe(`${'word '.repeat(38)}[redacted]`);
  });

  it.each([
    [`Policy ${POLICY_ID} not found in tenant ${TENANT_ID}`],
    [`GET deviceManagement/deviceConfigurations/${POLICY_ID}/assignments returned 404`],
    [`Scope {${TENANT_ID}} has no baseline`],
    ['beta/deviceManagement/configurationPolicies/42/settings is read-only'],
    ['deviceManagementConfigurationPolicyTemplates is not available'],
    ['Job timed out at 10:30:45 UTC'],
  ])('keeps ids and paths operators need: %s', (text) => {
    expect(sanitizeMessage(text)).toBe(text);
  });

  it('redacts a key-shaped run around a GUID but keeps the GUID', () => {
    expect(sanitizeMessage(`ref ${HEX_TOKEN}/${POLICY_ID}`)).toBe(`ref [redacted]/${POLICY_ID}`);
  });
});

describe('sanitizeMessage: Basic and OAuth credentials, encoded forms, compound keys', () => {
  it.each([
    ['Authorization: Basic dXNlcjpwYXNz', 'Authorization: [redacted]'],
    [
      'upstream rejected Basic dXNlcjpwYXNzd29yZA== for tenant',
      'upstream rejected Basic [redacted] for tenant',
    ],
    // All letters, like prose, but it decodes to `user:pass`.
    ['proxy sent basic dXNlcjpwYXNz', 'proxy sent Basic [redacted]'],
    [
      'GET https://app.contoso.com/signin-oidc?code=0.AXoA6B7xY2Fv-q_9&state=12345 failed',
      'GET https://app.contoso.com/signin-oidc?code=[redacted]&state=12345 failed',
    ],
    [
      'https://app.contoso.com/cb#code=4/0AX4XfWh7&state=x',
      'https://app.contoso.com/cb#code=[redacted]&state=x',
    ],
    [
      'grant_type=authorization_code&code=M.C507_BAY.2.U.4e50dfc3&client_secret=Abc8Q~dEf.GhI&redirect_uri=x',
      'grant_type=authorization_code&code=[redacted]&client_secret=[redacted]&redirect_uri=x',
    ],
    [
      `assertion=${JWT}&client_assertion=${JWT}&requested_token_use=on_behalf_of`,
      'assertion=[redacted]&client_assertion=[redacted]&requested_token_use=on_behalf_of',
    ],
    [
      'refresh_token=1.AXoAbc-9&id_token=eyJ0eXAi.eyJ4Ijox.c2ln',
      'refresh_token=[redacted]&id_token=[redacted]',
    ],
    [
      'redirect_uri=https%3A%2F%2Fapp%2Fcb%3Fcode%3D0.AXoA123%26state%3Dx',
      'redirect_uri=https%3A%2F%2Fapp%2Fcb%3Fcode%3D[redacted]%26state%3Dx',
    ],
    [
      'body=grant_type%3Dclient_credentials%26client_secret%3DAbc8Q~dEf%26scope%3D.default',
      'body=grant_type%3Dclient_credentials%26client_secret%3D[redacted]%26scope%3D.default',
    ],
    [
      '{"error":"invalid_grant","client_secret":"s3cr3t","code":"0.AXoA123abc"}',
      '{"error":"invalid_grant","client_secret":"[redacted]","code":"[redacted]"}',
    ],
    [
      'adminPassword=hunter2 storageAccountKey=abc123 sasToken=xyz dbpassword=p4ss',
      'adminPassword=[redacted] storageAccountKey=[redacted] sasToken=[redacted] dbpassword=[redacted]',
    ],
    ['"{\\"clientSecret\\":\\"correct horse\\"}"', '"{\\"clientSecret\\":\\"[redacted]\\"}"'],
    ['Abc8Q~dEf.GhIjklMNOpqrSTUvwxYZ0123456789ab rejected', '[redacted] rejected'],
    // Without a digit, random base64 still flips case every other letter.
    ['key nTfqXhzTrwQAdZyJpUKLjcDavWMiRgbsEeOPlmHYGIkuoFVN.', 'key [redacted].'],
    ['ref eTyYDuPS/ezi+038gbV5g8t6FskV6J9/ failed', 'ref [redacted]/ failed'],
    ['rediss://:/abc+def=@cache.example.net:6380', 'rediss://[redacted]@cache.example.net:6380'],
    ['redis://default:12/AbC+dEf=@cache:6380 refused', 'redis://[redacted]@cache:6380 refused'],
  ])('redacts %s', (input, expected) => {
    expect(sanitizeMessage(input)).toBe(expected);
  });

  it.each([
    ["code: 'ECONNRESET'"],
    ['error code 403'],
    ['connect failed code=ECONNREFUSED'],
    ['{"code":"Forbidden","message":"Insufficient privileges"}'],
    ['AADSTS7000215: Invalid client secret provided.'],
    ['Graph error code: Authorization_RequestDenied'],
    ['(code=ERR_HTTP2_STREAM_ERROR).'],
    ['exit code: -2147024891, code=0x80070005'],
    ['Basic auth failed for tenant contoso'],
    ['monkey=banana turkey: yes'],
    ['Microsoft.Graph.Beta.Models.ODataErrors.ODataError thrown'],
    ['GET graph.microsoft.com/v1.0/deviceManagement/configurationPolicies failed'],
    ['GET https://api.example.com:8443/users/adele@contoso.com returned 404'],
    ['Failed at 2025-01-02T10:30:45.123Z'],
  ])('keeps diagnostics readable: %s', (text) => {
    expect(sanitizeMessage(text)).toBe(text);
  });
});

describe('redactSecrets', () => {
  it('redacts every line and keeps the line breaks, indentation and frames', () => {
    const text = `Error: Login failed password=hunter2\r\n${FRAME_LINE}\n  Bearer abc.def\u2028    at <anonymous>`;
    expect(redactSecrets(text)).toBe(
      `Error: Login failed password=[redacted]\r\n${FRAME_LINE}\n  Bearer [redacted]\u2028    at <anonymous>`,
    );
  });

  it('cuts a line past the scan limit and says how much it cut', () => {
    const line = `${'word '.repeat(900)}password=hunter2 ${'tail '.repeat(100)}`;
    const out = redactSecrets(`first\n${line}`);
    expect(out).toBe(`first\n${line.slice(0, 4000)}… (${line.length - 4000} characters cut)`);
    expect(out).not.toContain('hunter2');
  });

  it('turns controls into spaces or drops them, so a split key is still found', () => {
    expect(redactSecrets('\u001b[31mpass\u0000word=hunter2\tnext')).toBe('password=[redacted] next');
  });
});

describe('sanitizeError', () => {
  it('keeps the name and the frames, and sanitizes the message wherever the stack repeats it', () => {
    const error = errorWithStack('Login failed password=hunter2', 'ignored');
    error.name = 'GraphError';
    error.stack = `GraphError: Login failed password=hunter2\n${FRAME_LINE}\n    at x (/app/x.js:1:2) token=abc`;
    expect(sanitizeError(error)).toEqual({
      name: 'GraphError',
      message: 'Login failed password=[redacted]',
      stack: `GraphError: Login failed password=[redacted]\n${FRAME_LINE}\n    at x (/app/x.js:1:2) token=[redacted]`,
    });
  });

  it('replaces every line of a multi-line message before the first frame', () => {
    const error = errorWithStack('Query failed\nSELECT 1 -- pwd=hunter2', '');
    error.stack = `Error: Query failed\nSELECT 1 -- pwd=hunter2\n${FRAME_LINE}`;
    expect(sanitizeError(error).stack).toBe(`Error: Query failed\n${FRAME_LINE}`);
  });

  it('heads the stack with the name alone when the message is empty, as V8 does', () => {
    const error = errorWithStack('', `TypeError\n${FRAME_LINE}`);
    error.name = 'TypeError';
    expect(sanitizeError(error)).toEqual({
      name: 'TypeError',
      message: 'TypeError',
      stack: `TypeError\n${FRAME_LINE}`,
    });
  });

  it('keeps only the header of a stack with no frames', () => {
    expect(sanitizeError(errorWithStack('boom', 'Error: boom\nsecret=s3cr3t')).stack).toBe('Error: boom');
  });

  it.each<[string, unknown, { name: string; message: string }]>([
    ['a thrown string', 'token=abc123 rejected', { name: 'Error', message: 'token=[redacted] rejected' }],
    ['null', null, { name: 'Error', message: 'Unknown error' }],
    [
      'an object without a stack',
      { name: 'GraphError', message: 'Forbidden' },
      { name: 'GraphError', message: 'Forbidden' },
    ],
    [
      'an object whose getters throw',
      new Proxy(
        {},
        {
          get() {
            throw new Error('hostile getter');
          },
        },
      ),
      { name: 'Error', message: 'Unexpected non-error value' },
    ],
  ])('copes with %s', (_name, err, expected) => {
    expect(sanitizeError(err)).toEqual(expected);
  });
});

describe('classifyError', () => {
  it.each<[string, unknown, ReasonCode]>([
    ['a declared reasonCode', { reasonCode: 'baseline_missing' }, 'baseline_missing'],
    ['a declared reason_code', { reason_code: 'worker_lost' }, 'worker_lost'],
    ['a catalogue code on AppError', AppError.notFound('Policy'), 'not_found'],
    ['queue_unavailable as code', { code: 'queue_unavailable' }, 'queue_unavailable'],
    ['an unknown declared code, then the status', { reasonCode: 'exploded', status: 404 }, 'not_found'],
    ['ETIMEDOUT', Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 'timeout'],
    ['ESOCKETTIMEDOUT', { code: 'ESOCKETTIMEDOUT' }, 'timeout'],
    ['a TimeoutError', { name: 'TimeoutError', message: 'signal timed out' }, 'timeout'],
    ['ECONNREFUSED', { code: 'ECONNREFUSED' }, 'provider_unavailable'],
    ['ECONNRESET', { code: 'ECONNRESET' }, 'provider_unavailable'],
    ['ENOTFOUND', { code: 'ENOTFOUND' }, 'provider_unavailable'],
    ['EAI_AGAIN', { code: 'EAI_AGAIN' }, 'provider_unavailable'],
    ['status 404', { status: 404 }, 'not_found'],
    ['status 401', { status: 401 }, 'permission_denied'],
    ['statusCode 403', { statusCode: 403 }, 'permission_denied'],
    ['status 429', { status: 429 }, 'provider_throttled'],
    ['status 502', { status: 502 }, 'provider_unavailable'],
    ['statusCode 503', { statusCode: 503 }, 'provider_unavailable'],
    ['status 504', { status: 504 }, 'provider_unavailable'],
    ['status 400', { status: 400 }, 'validation_failed'],
    ['statusCode 422', { statusCode: 422 }, 'validation_failed'],
    ['status 500', { status: 500 }, 'unexpected_error'],
    ['a status given as a string', { status: '404' }, 'unexpected_error'],
    [
      'a recognised cause under a plain wrapper',
      new Error('sync failed', { cause: { status: 429 } }),
      'provider_throttled',
    ],
    ['a plain Error', new Error('boom'), 'unexpected_error'],
    ['a string', 'ETIMEDOUT', 'unexpected_error'],
    ['a number', 404, 'unexpected_error'],
    ['null', null, 'unexpected_error'],
    ['undefined', undefined, 'unexpected_error'],
  ])('%s', (_name, err, expected) => {
    expect(classifyError(err)).toBe(expected);
  });

  it('stops on a cyclic cause chain', () => {
    const err = new Error('loop') as Error & { cause?: unknown };
    err.cause = err;
    expect(classifyError(err)).toBe('unexpected_error');
  });
});

describe('catalogue', () => {
  it('labels every reason', () => {
    for (const code of REASON_CODES) expect(REASON_LABELS[code]).toMatch(/^[A-Z].{2,}/);
    expect(REASON_LABELS.provider_throttled).toBe('Provider throttled the request');
  });

  it.each<[unknown, boolean]>([
    ['timeout', true],
    ['cancelled', true],
    ['Timeout', false],
    ['throttled', false],
    ['', false],
    [null, false],
    [7, false],
  ])('isReasonCode(%p) is %p', (x, expected) => {
    expect(isReasonCode(x)).toBe(expected);
  });
});

describe('toFailure', () => {
  const at = new Date('2025-01-02T03:04:05Z');

  it('builds a stored entry from an error', () => {
    const error = Object.assign(new Error('Too many requests\n    at x (/app/x.js:1:1)'), { status: 429 });
    expect(toFailure({ itemId: 'p-1', error, at })).toEqual({
      item_id: 'p-1',
      reason_code: 'provider_throttled',
      message: 'Too many requests',
      at: '2025-01-02T03:04:05.000Z',
    });
  });

  it('falls back to classifying the error for a reason code outside the catalogue', () => {
    expect(
      toFailure({ reasonCode: 'exploded', error: { statusCode: 404, message: 'gone' }, at }).reason_code,
    ).toBe('not_found');
  });

  it('prefers a catalogue reason code over the classification', () => {
    expect(toFailure({ reasonCode: 'cancelled', error: { status: 404 }, at }).reason_code).toBe('cancelled');
  });

  it('prefers the given message over the error and sanitizes it', () => {
    const failure = toFailure({ message: 'Policy rejected: token=abc123', error: new Error('raw'), at });
    expect(failure.message).toBe('Policy rejected: token=[redacted]');
  });

  it('fills what was not given', () => {
    const before = Date.now();
    const failure = toFailure({});
    expect(failure).toMatchObject({
      item_id: null,
      reason_code: 'unexpected_error',
      message: 'Unknown error',
    });
    expect(failure.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(failure.at)).toBeGreaterThanOrEqual(before);
  });

  it('turns a numeric item id into a string', () => {
    expect(toFailure({ itemId: 42, at }).item_id).toBe('42');
  });

  it('records now for an invalid date instead of throwing', () => {
    const before = Date.now();
    expect(Date.parse(toFailure({ at: new Date('nonsense') }).at)).toBeGreaterThanOrEqual(before);
  });
});

function failures(count: number, from = 0, reason: ReasonCode = 'timeout'): RunFailure[] {
  return Array.from({ length: count }, (_, i) => ({
    item_id: `item-${from + i}`,
    reason_code: reason,
    message: `failure ${from + i}`,
    at: '2025-01-02T03:04:05.000Z',
  }));
}

describe('appendFailures', () => {
  it('keeps everything under the cap', () => {
    expect(appendFailures(failures(10), 0, failures(5, 10))).toEqual({ failures: failures(15), omitted: 0 });
  });

  it('keeps the first 100 and counts every later entry across appends', () => {
    let state = { failures: [] as RunFailure[], omitted: 0 };
    state = appendFailures(state.failures, state.omitted, failures(60));
    expect(state.omitted).toBe(0);
    state = appendFailures(state.failures, state.omitted, failures(60, 60));
    expect(state).toEqual({ failures: failures(MAX_FAILURES_PER_RUN), omitted: 20 });
    state = appendFailures(state.failures, state.omitted, failures(5, 120));
    expect(state.failures.map((f) => f.item_id)).toEqual(
      failures(MAX_FAILURES_PER_RUN).map((f) => f.item_id),
    );
    expect(state.omitted).toBe(25);
  });

  it('adds to an omitted count carried from before', () => {
    expect(appendFailures(failures(100), 7, failures(3, 100)).omitted).toBe(10);
  });

  it('does not mutate its inputs', () => {
    const existing = Object.freeze(failures(99)) as RunFailure[];
    const incoming = Object.freeze(failures(2, 99)) as RunFailure[];
    const result = appendFailures(existing, 0, incoming);
    expect(result).toEqual({ failures: failures(100), omitted: 1 });
    expect(existing).toHaveLength(99);
    expect(incoming).toHaveLength(2);
  });
});

describe('digestFailures', () => {
  it('groups by reason, most frequent first, with a label and the first message as sample', () => {
    const stored = [
      ...failures(1, 0, 'not_found'),
      ...failures(2, 1, 'provider_throttled'),
      ...failures(3, 3, 'timeout'),
    ];
    expect(digestFailures(stored, 40)).toEqual([
      { reason_code: 'timeout', label: 'Timed out', count: 3, sample: 'failure 3' },
      {
        reason_code: 'provider_throttled',
        label: 'Provider throttled the request',
        count: 2,
        sample: 'failure 1',
      },
      { reason_code: 'not_found', label: 'Not found', count: 1, sample: 'failure 0' },
    ]);
  });

  it('keeps first-seen order for equal counts', () => {
    const stored = [...failures(1, 0, 'permission_denied'), ...failures(1, 1, 'cancelled')];
    expect(digestFailures(stored, 0).map((d) => d.reason_code)).toEqual(['permission_denied', 'cancelled']);
  });

  it('counts a reason from an older catalogue as unexpected', () => {
    const stored = [{ ...failures(1)[0], reason_code: 'gone_away' as ReasonCode }];
    expect(digestFailures(stored, 0)).toEqual([
      { reason_code: 'unexpected_error', label: 'Unexpected error', count: 1, sample: 'failure 0' },
    ]);
  });

  it('is empty when only omitted entries exist', () => {
    expect(digestFailures([], 12)).toEqual([]);
  });
});
