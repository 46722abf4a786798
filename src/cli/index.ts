/** The command line's module (src/cli.ts runs it). */
export { CliModule } from './cli.module';
