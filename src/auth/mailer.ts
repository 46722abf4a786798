import { Inject, Injectable, Logger } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { sanitizeMessage } from '../common/redact';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends the few e-mails the hub writes (invitations, set-password links) over SMTP_URL with
 * nodemailer. Without SMTP_URL nothing is sent and the link is shown to the person who made it.
 */
@Injectable()
export class Mailer {
  private readonly logger = new Logger('Mailer');
  private readonly transport: Transporter | null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.transport = config.smtp
      ? createTransport(withTimeouts(config.smtp.url), { from: config.smtp.from })
      : null;
  }

  get enabled(): boolean {
    return this.transport !== null;
  }

  /**
   * Whether the mail went out. A mail server that is down does not undo the invitation: the link is
   * still shown, and the failure is logged without the SMTP credentials.
   */
  async send(mail: Mail): Promise<boolean> {
    if (!this.transport) return false;
    try {
      await this.transport.sendMail({ from: this.config.smtp!.from, ...mail });
      return true;
    } catch (e) {
      this.logger.warn(
        { to: mail.to, reason: sanitizeMessage(e instanceof Error ? e.message : String(e)) },
        'could not send e-mail',
      );
      return false;
    }
  }
}

/** A mail server that never answers must not hold an invitation page for minutes. */
function withTimeouts(url: string): string {
  const u = new URL(url);
  for (const [k, v] of [
    ['connectionTimeout', '10000'],
    ['greetingTimeout', '10000'],
    ['socketTimeout', '20000'],
  ])
    if (!u.searchParams.has(k)) u.searchParams.set(k, v);
  return u.toString();
}
