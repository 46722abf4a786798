import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withoutExternalFonts } from './queue-board';

describe("the Bull board's page", () => {
  // The installed UI's own template: an upgrade that words its font link differently fails here.
  const template = readFileSync(
    join(dirname(require.resolve('@bull-board/ui/package.json')), 'dist', 'index.ejs'),
    'utf8',
  );

  it('loses its Google Fonts link and keeps everything else', () => {
    expect(template).toContain('https://fonts.googleapis.com/');
    const page = withoutExternalFonts(template);
    expect(page).not.toMatch(/fonts\.(googleapis|gstatic)\.com/);
    expect(page).toMatch(/<link href="static\/css\/main\.[0-9a-f]+\.css" rel="stylesheet">/);
    expect(page).toContain('<script id="__UI_CONFIG__"');
    expect(template.length - page.length).toBeLessThan(200);
  });
});
