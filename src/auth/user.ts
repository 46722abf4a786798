/** A person who signs in. The password hash never leaves the auth module's repository. */
export interface User {
  id: number;
  email: string;
  name: string;
  /** Platform operations staff: may see the Bull board. */
  isOps: boolean;
  createdAt: Date;
  /** A deactivated user cannot sign in; their sessions and API tokens are refused. */
  deactivatedAt: Date | null;
  lastSignInAt: Date | null;
  /** Colour theme of the pages: `system` follows the browser's prefers-color-scheme. */
  theme: Theme;
  /** IANA time zone local times are shown in beside UTC; null shows UTC only. */
  timezone: string | null;
}

export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

/** A personal API token as its owner sees it: the token itself is shown once and never stored. */
export interface ApiToken {
  id: number;
  userId: number;
  name: string;
  /** First characters, so a user can tell tokens apart on the profile page. */
  tokenPrefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}
