/** Page plumbing shared by every module that serves pages; it depends on no feature module. */
export { flash, redirectSeeOther, takeFlash } from './flash';
export type { FlashMessage } from './flash';
export { formBody } from './form-body';
export { FormPage } from './form-page';
export { HttpExceptionFilter } from './http-exception.filter';
export { requestLog } from './request-log';
export { CSRF_TOKENS } from './request';
export type { CsrfTokens, RequestPrincipal, RequestTenant, WebRequest } from './request';
export { LayoutPart, ViewLocals } from './view-locals';
export type { LayoutPartProvider } from './view-locals';
export {
  canonicalTimeZone,
  humanDuration,
  formatNumber,
  isoTime,
  relativeTime,
  utcTime,
} from './view-helpers';
export { escapeHtml, NO_LAYOUT, NoLayout, registerViewHelper, registerViews } from './views';
