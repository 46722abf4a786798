import type { Request, Response } from 'express';

export interface FlashMessage {
  type: 'success' | 'info' | 'warning' | 'error';
  message: string;
  link?: { href: string; label: string };
}

/** Queues a message for the next page this session renders (post/redirect/get). */
export function flash(
  req: Request,
  type: FlashMessage['type'],
  message: string,
  link?: FlashMessage['link'],
): void {
  const s = req.session as unknown as { flash?: FlashMessage[] };
  s.flash = [...(s.flash ?? []), { type, message, link }];
}

export function takeFlash(req: Request): FlashMessage[] {
  const s = req.session as unknown as { flash?: FlashMessage[] } | undefined;
  if (!s?.flash?.length) return [];
  const messages = s.flash;
  delete s.flash;
  return messages;
}

/**
 * Redirects after a POST once the session (and any flash in it) is stored. express-session would
 * otherwise send the redirect while still saving, and a fast browser can load the next page before
 * its flash exists.
 */
export async function redirectSeeOther(req: Request, res: Response, url: string): Promise<void> {
  if (req.session)
    await new Promise<void>((resolve, reject) => req.session.save((e) => (e ? reject(e) : resolve())));
  res.redirect(303, url);
}
