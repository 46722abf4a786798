/**
 * Domain errors carry a code, never an HTTP status: the same services run inside Bull jobs. The
 * exception filter maps codes to statuses and pages.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'csrf_invalid'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'throttled'
  | 'payload_too_large'
  | 'uri_too_long'
  | 'queue_unavailable'
  | 'database_unavailable';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static badRequest(message: string): AppError {
    return new AppError('bad_request', message);
  }

  static notFound(what = 'Page'): AppError {
    return new AppError('not_found', `${what} not found.`);
  }

  static forbidden(message = 'Your role does not allow this action.'): AppError {
    return new AppError('forbidden', message);
  }

  /**
   * Input a form field got wrong: a readable 400 whose `fields` say which field and why, so the page
   * can show each message beside its input (with what was typed kept).
   */
  static invalid(fields: Record<string, string>): FormError {
    return new FormError(fields);
  }
}

export class FormError extends AppError {
  constructor(readonly fields: Record<string, string>) {
    super('bad_request', Object.values(fields).join(' '));
    this.name = 'FormError';
  }
}

export const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  csrf_invalid: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  throttled: 429,
  payload_too_large: 413,
  uri_too_long: 414,
  queue_unavailable: 503,
  database_unavailable: 503,
};

export const ERROR_TITLES: Record<number, string> = {
  400: 'That request could not be understood',
  401: 'Please sign in',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  410: 'No longer valid',
  413: 'Too much at once',
  414: 'Address too long',
  429: 'Too many requests',
  431: 'Request headers too large',
  500: 'Something went wrong',
  503: 'Service unavailable',
};
