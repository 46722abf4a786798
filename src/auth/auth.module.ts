import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AbilityFactory } from './ability.factory';
import { ApiToken } from './api-token.entity';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { CsrfGuard } from './csrf';
import { LoginThrottleGuard } from './login-throttle.guard';
import { SessionRow } from './session.entity';
import { User } from './user.entity';

@Module({
  imports: [
    TypeOrmModule.forFeature([User, ApiToken, SessionRow]),
    TenantsModule,
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        throttlers: [
          { name: 'login', limit: config.loginThrottle.limit, ttl: config.loginThrottle.ttlSeconds * 1000 },
        ],
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    AbilityFactory,
    LoginThrottleGuard,
    // Order matters: a forged POST is refused before anything else looks at it.
    { provide: APP_GUARD, useClass: CsrfGuard },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuthService, AbilityFactory],
})
export class AuthModule {}
