import fc from 'fast-check';
import { csvLine } from './csv';

/** A small RFC 4180 reader for one line, to read back what csvLine wrote. */
function readLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  while (i <= line.length) {
    let cell = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') {
          cell += '"';
          i += 2;
        } else if (line[i] === '"') break;
        else cell += line[i++];
      }
      i++;
    }
    cells.push(cell);
    if (line[i] !== ',') break;
    i++;
  }
  return cells;
}

describe('csvLine', () => {
  it('reads back as the same cells, whatever they hold (formula starts defused)', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 6 }), (cells) => {
        const back = readLine(csvLine(cells));
        expect(back).toEqual(cells.map((c) => (/^[=+\-@\t\r]/.test(c) ? `'${c}` : c)));
      }),
    );
  });

  it('never lets a cell start a formula in a spreadsheet', () => {
    expect(csvLine(['=HYPERLINK("http://x")', '+1', '-2', '@SUM(A1)', 'ok'])).toBe(
      `"'=HYPERLINK(""http://x"")","'+1","'-2","'@SUM(A1)","ok"`,
    );
  });
});
