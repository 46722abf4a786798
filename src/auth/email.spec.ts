import fc from 'fast-check';
import { emailThrottleKey, normalizeEmail } from './email';

describe('e-mail normal forms', () => {
  it('stores one form per address: trimmed, NFC, lower case', () => {
    expect(normalizeEmail('  Operator@Example.COM ')).toBe('operator@example.com');
    // "ö" typed as o + combining diaeresis and as one code point are the same address.
    expect(normalizeEmail('o\u0308p@example.com')).toBe(normalizeEmail('\u00f6p@example.com'));
    // …but an accented address is not the plain one: finding an account compares exactly.
    expect(normalizeEmail('öpèratör@example.com')).not.toBe(normalizeEmail('operator@example.com'));
  });

  it.each([
    'öpèratör@example.com',
    'ÖPÈRATÖR@EXAMPLE.COM',
    'operatør@example.com',
    'ｏｐｅｒａｔｏｒ@example.com',
    'o\u0308pe\u0300rator@example.com',
    ' Operator@example.com ',
  ])('throttles %s under the plain address', (variant) => {
    expect(emailThrottleKey(variant)).toBe(emailThrottleKey('operator@example.com'));
  });

  it('folds any accented spelling of an ASCII address onto it', () => {
    const accents = ['\u0300', '\u0301', '\u0302', '\u0308', '\u0327', '\u030a', '\u0303'];
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9._-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}$/),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...accents), fc.boolean())),
        (plain, marks) => {
          const chars = [...plain];
          for (const [at, mark, upper] of marks) {
            const i = at % chars.length;
            if (/[a-z]/.test(chars[i][0])) chars[i] = (upper ? chars[i].toUpperCase() : chars[i]) + mark;
          }
          const variant = chars.join('').normalize('NFC');
          expect(emailThrottleKey(variant)).toBe(plain);
        },
      ),
    );
  });
});
