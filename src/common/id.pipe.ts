import { Injectable, PipeTransform } from '@nestjs/common';
import { AppError } from './app-error';

/** A path id that cannot name a row is simply not found — never a 400 that hints at the id format, never a 500. */
@Injectable()
export class IdPipe implements PipeTransform<unknown, number> {
  transform(value: unknown): number {
    if (typeof value !== 'string' || !/^[1-9]\d{0,14}$/.test(value)) throw AppError.notFound();
    return Number(value);
  }
}
