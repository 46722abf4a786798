import { Foundation1764100000000 } from './1764100000000-foundation';

/** Applied in this order at boot; timestamps only ever grow. */
export const MIGRATIONS = [Foundation1764100000000];
