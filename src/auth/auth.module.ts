import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUE_BOARD_GATE, QueueBoardGate } from '../queue';
import { TenantsModule } from '../tenants';
import { AccountsModule } from './accounts.module';
import { CSRF_TOKENS } from '../web';
import { AbilityFactory } from './ability.factory';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { AnonymousCsrf, CsrfGuard, CsrfTokenIssuer } from './csrf';
import { SessionsService } from './sessions.service';
import { LoginThrottleGuard } from './login-throttle.guard';
import { LoginThrottleStorage } from './login-throttle.storage';

/** No Origin header (same-origin navigation), or one naming this host; "null" or garbage is foreign. */
function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

@Module({
  imports: [
    AccountsModule,
    TenantsModule,
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        throttlers: [
          { name: 'login', limit: config.loginThrottle.limit, ttl: config.loginThrottle.ttlSeconds * 1000 },
        ],
        storage: new LoginThrottleStorage(config),
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AbilityFactory,
    LoginThrottleGuard,
    {
      provide: AnonymousCsrf,
      inject: [SessionsService, APP_CONFIG],
      useFactory: (sessions: SessionsService, config: AppConfig) =>
        new AnonymousCsrf(sessions.secret, config.cookieSecure),
    },
    {
      provide: CSRF_TOKENS,
      inject: [AnonymousCsrf],
      useFactory: (a: AnonymousCsrf) => new CsrfTokenIssuer(a),
    },
    {
      provide: QUEUE_BOARD_GATE,
      inject: [AuthService, AbilityFactory],
      useFactory:
        (auth: AuthService, abilities: AbilityFactory): QueueBoardGate =>
        async (req) => {
          const userId = (req.session as { userId?: number } | undefined)?.userId;
          if (!userId) return false;
          // The board's own buttons (retry, clean) post JSON from its page; refuse them from anywhere else.
          if (req.method !== 'GET' && !sameOrigin(req.headers.origin, req.headers.host)) return false;
          const principal = await auth.principalFor(userId);
          if (!principal) return false;
          const ability = abilities.forPrincipal(principal);
          // Kept on the request, so a refusal's 404 page shows this user's layout, not a visitor's.
          Object.assign(req, { principal, ability, canSeeQueues: ability.can('read', 'BullBoard') });
          return ability.can('read', 'BullBoard');
        },
    },
    // Order matters: a forged POST is refused before anything else looks at it.
    { provide: APP_GUARD, useClass: CsrfGuard },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AccountsModule, AbilityFactory, CSRF_TOKENS],
})
export class AuthModule {}
