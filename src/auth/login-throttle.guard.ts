import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ThrottlerLimitDetail } from '@nestjs/throttler/dist/throttler.guard.interface';
import { AppError } from '../common/app-error';
import { emailThrottleKey } from './email';

/**
 * Login attempts are counted per client address and e-mail (accents and case folded, so spelling
 * variants of one address share its allowance), so one user mistyping does not lock out a shared
 * office address, and guessing one account's password is slowed down. The count lives in Redis
 * (LoginThrottleStorage), so it holds whichever web process a try reaches.
 */
@Injectable()
export class LoginThrottleGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const email = typeof req.body?.email === 'string' ? req.body.email : '';
    return `${req.ip}|${emailThrottleKey(email)}`;
  }

  protected override async throwThrottlingException(
    _ctx: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const wait = Math.max(1, Math.ceil(detail.timeToExpire));
    throw new AppError('throttled', `Too many sign-in attempts. Try again in ${wait} seconds.`);
  }
}
