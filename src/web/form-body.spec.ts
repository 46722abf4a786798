import { measureScaling } from '../../test/factories/scaling';
import { countFields, parseForm } from './form-body';

describe('form bodies', () => {
  it('collects repeated fields into arrays, in order, and keeps single ones plain', () => {
    const body = parseForm('policy_ids=1&name=a+b&policy_ids=2&policy_ids=3&empty=&_csrf=x%2Fy');
    expect(body).toEqual({ policy_ids: ['1', '2', '3'], name: 'a b', empty: '', _csrf: 'x/y' });
  });

  it('has no prototype to pollute', () => {
    const body = parseForm('__proto__=x&constructor=y&toString=z');
    expect(Object.getPrototypeOf(body)).toBeNull();
    expect(body.__proto__).toBe('x');
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });

  it('counts fields without decoding, stopping past the cap', () => {
    expect(countFields('', 10)).toBe(0);
    expect(countFields('a=1', 10)).toBe(1);
    expect(countFields('a=1&b=2&c', 10)).toBe(3);
    expect(countFields('x=1&'.repeat(1_000_000), 25_000)).toBe(25_001);
  });

  it('reads a 20,000-policy selection in linear time', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `policy_ids=${100_000 + i}`).join('&');
    const large = body(20_000);
    expect((parseForm(large).policy_ids as string[]).length).toBe(20_000);
    // Eight times the fields may cost eight times the work, not sixty-four (the quadratic merge did).
    const measured = measureScaling({ run: parseForm, small: body(2_500), large, limit: 24 });
    expect(measured.largeMs).toBeLessThan(measured.boundMs);
    expect(measured.largeMs).toBeLessThan(200);
  });
});
