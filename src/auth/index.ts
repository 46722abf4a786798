/** The auth module's public face: other modules import from here only. */
export { AuthModule } from './auth.module';
export { AuthService } from './auth.service';
export { AccountsModule } from './accounts.module';
export { AccountsService, LinkError, LINK_DAYS, LINK_MESSAGES } from './accounts.service';
export type { IssuedLink, LinkState } from './accounts.service';
export type { Invitation } from './invitations.repository';
export { AbilityFactory, inTenant, onPlatform, PLATFORM_MANAGED } from './ability.factory';
export type { Action, AppAbility, Principal, SubjectName } from './ability.factory';
export { controlFor } from './controls';
export type { Control } from './controls';
export {
  ABILITY_KEY,
  Can,
  CurrentPrincipal,
  CurrentTenant,
  Ids,
  IDS_KEY,
  Public,
  PUBLIC_KEY,
  SignedIn,
  SIGNED_IN_KEY,
} from './decorators';
export type { IdsDeclaration } from './decorators';
export type { AuthedRequest, TenantContext } from './request';
export { SessionsService } from './sessions.service';
export type { ApiToken, User } from './user';
