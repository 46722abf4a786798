/**
 * One normal form for e-mail addresses, applied wherever an address comes in (sign-up, invitation,
 * sign-in) and stored as such, so that finding an account is an exact comparison. The database's
 * own notion of "equal" is not used: MySQL's common collations take "öpèratör" for "operator".
 */
export function normalizeEmail(raw: string): string {
  return raw.normalize('NFC').trim().toLowerCase();
}

/** Letters without a Unicode decomposition that still read as a plain Latin letter. */
const FOLD: Record<string, string> = {
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ħ: 'h',
  ı: 'i',
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  þ: 'th',
};

/**
 * What sign-in throttling counts attempts under: the address with accents, compatibility forms
 * (full-width letters) and case folded away, so "öpèratör@example.com" shares the allowance of
 * "operator@example.com" instead of opening a fresh one.
 */
export function emailThrottleKey(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[øłđħıßæœþ]/g, (ch) => FOLD[ch])
    .trim()
    .slice(0, 190);
}
