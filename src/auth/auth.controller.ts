import { Body, Controller, Get, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import { flash, FormPage, NoLayout, redirectSeeOther } from '../web';
import { AccountsService } from './accounts.service';
import type { AuthedRequest } from './request';
import { AuthService } from './auth.service';
import { Ids, Public, SignedIn } from './decorators';
import { LoginThrottleGuard } from './login-throttle.guard';
import { Theme, THEMES } from './user';

const THEME_LABELS: Record<Theme, string> = {
  system: 'System (follow this device)',
  light: 'Light',
  dark: 'Dark',
};
/** Suggestions for the time zone field: the IANA names this runtime knows. */
const TIME_ZONES = Intl.supportedValuesOf('timeZone');

/** Only same-site paths: an open redirect after login would be a phishing gift. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) && next.length < 500
    ? next
    : '/admin';
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())));
}

@Controller()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly accounts: AccountsService,
  ) {}

  @Public()
  @Get('/')
  root(@Res() res: Response) {
    res.redirect('/admin');
  }

  @Public()
  @Get('/login')
  async loginPage(@Req() req: Request, @Res() res: Response, @Query('next') next?: unknown) {
    if ((req.session as { userId?: number }).userId) {
      res.redirect(safeNext(next));
      return;
    }
    // A fresh install without the demo: say how to make the first account, not just "sign in".
    // The sign-in page stays up while the database is down: then it simply does not know.
    const firstRun = (await this.auth.userCount().catch(() => 1)) === 0;
    res.render('auth/login', { title: 'Sign in', next: safeNext(next), bare: true, firstRun });
  }

  @Public()
  @UseGuards(LoginThrottleGuard)
  @Post('/login')
  async login(@Req() req: Request, @Res() res: Response, @Body() body: Record<string, unknown>) {
    const email = typeof body.email === 'string' ? body.email : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const next = safeNext(body.next);
    const user = email && password ? await this.auth.verifyPassword(email, password) : null;
    if (!user) {
      res.status(401).render('auth/login', {
        title: 'Sign in',
        bare: true,
        next,
        email,
        error: 'Wrong e-mail or password.',
      });
      return;
    }
    if (user.deactivatedAt) {
      res.status(403).render('auth/login', {
        title: 'Sign in',
        bare: true,
        next,
        email,
        error: 'This account is deactivated. Ask a platform admin to reactivate it.',
      });
      return;
    }
    // A fresh session id on login, so an id planted before sign-in is worthless afterwards.
    await regenerate(req);
    (req.session as { userId?: number }).userId = user.id;
    await this.auth.signedIn(user.id);
    await redirectSeeOther(req, res, next);
  }

  @SignedIn()
  @Post('/logout')
  async logout(@Req() req: Request, @Res() res: Response) {
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie('ops.sid');
    await redirectSeeOther(req, res, '/login');
  }

  @SignedIn()
  @Get('/admin')
  admin(@Req() req: AuthedRequest, @Res() res: Response) {
    const first = [...req.principal.memberships].sort((a, b) => a.name.localeCompare(b.name))[0];
    if (!first) {
      res.status(200).render('auth/no-tenants', { title: 'No tenants' });
      return;
    }
    res.redirect(`/admin/t/${first.slug}/operations`);
  }

  @SignedIn()
  @Get('/admin/t/:tenant')
  @NoLayout()
  tenantHome(@Req() req: AuthedRequest, @Res() res: Response) {
    res.redirect(`/admin/t/${req.tenant!.slug}/operations`);
  }

  @SignedIn()
  @Get('/admin/help')
  help(@Res() res: Response) {
    res.render('auth/help', { title: 'Help', nav: 'help' });
  }

  @SignedIn()
  @Get('/admin/profile')
  async profile(@Req() req: AuthedRequest, @Res() res: Response) {
    const created = (req.session as { newToken?: string }).newToken;
    delete (req.session as { newToken?: string }).newToken;
    res.render('auth/profile', { ...(await this.profileLocals(req)), created });
  }

  async profileLocals(req: AuthedRequest) {
    const theme = req.principal.theme ?? 'system';
    return {
      title: 'Profile and API tokens',
      nav: 'profile',
      tokens: await this.auth.listTokens(req.principal.id),
      themes: THEMES.map((value) => ({ value, label: THEME_LABELS[value], checked: value === theme })),
      timezone: req.principal.timezone ?? '',
      zones: TIME_ZONES,
    };
  }

  @SignedIn()
  @Post('/admin/profile/preferences')
  @FormPage('auth/profile', 'profileLocals')
  async setPreferences(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @Body() body: Record<string, unknown>,
  ) {
    await this.auth.setPreferences(req.principal.id, { theme: body.theme, timezone: body.timezone });
    flash(req, 'success', 'Display preferences saved.');
    await redirectSeeOther(req, res, '/admin/profile');
  }

  @SignedIn()
  @Post('/admin/profile/password')
  @FormPage('auth/profile', 'profileLocals')
  async changePassword(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @Body() body: Record<string, unknown>,
  ) {
    await this.accounts.changePassword(req.principal.id, body, req.sessionID);
    flash(req, 'success', 'Password changed. Every other session of your account has been signed out.');
    await redirectSeeOther(req, res, '/admin/profile');
  }

  @SignedIn()
  @Post('/admin/profile/tokens')
  @FormPage('auth/profile', 'profileLocals')
  async createToken(@Req() req: AuthedRequest, @Res() res: Response, @Body('name') name: unknown) {
    const label = typeof name === 'string' ? name.trim() : '';
    if (!label || label.length > 80)
      throw AppError.invalid({ token_name: 'Give the token a name of 1 to 80 characters.' });
    const { token } = await this.auth.createToken(req.principal.id, label);
    // Shown once on the next page and then forgotten: only its hash is kept.
    (req.session as { newToken?: string }).newToken = token;
    await redirectSeeOther(req, res, '/admin/profile');
  }

  @SignedIn()
  @Ids({ id: 'api_token' }, { consumes: true })
  @Post('/admin/profile/tokens/:id/revoke')
  async revokeToken(@Req() req: AuthedRequest, @Res() res: Response, @Param('id', IdPipe) id: number) {
    if (!(await this.auth.revokeToken(req.principal.id, id))) throw AppError.notFound('Token');
    flash(req, 'success', 'Token revoked.');
    await redirectSeeOther(req, res, '/admin/profile');
  }
}
