import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ThrottlerLimitDetail } from '@nestjs/throttler/dist/throttler.guard.interface';
import { AppError } from '../common/app-error';

/**
 * Login attempts are counted per client address and e-mail, so one user mistyping does not lock out
 * a shared office address, and guessing one account's password is slowed down.
 */
@Injectable()
export class LoginThrottleGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const email = String(req.body?.email ?? '')
      .trim()
      .toLowerCase()
      .slice(0, 190);
    return `${req.ip}|${email}`;
  }

  protected override async throwThrottlingException(
    _ctx: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const wait = Math.max(1, Math.ceil(detail.timeToExpire));
    throw new AppError('throttled', `Too many sign-in attempts. Try again in ${wait} seconds.`);
  }
}
