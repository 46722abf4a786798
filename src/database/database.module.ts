import { Global, Module } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Db } from './db';
import { Dialect } from './dialect';
import { MIGRATIONS } from './migrations';
import { moduleMigrations } from './module-migrations';
import { buildDataSourceOptions, runMigrations } from './typeorm-options';

/**
 * The connection, the migrations, and the two services every repository uses: Db (statements and
 * transactions) and Dialect (what MySQL and SQLite say differently). Global, like the configuration:
 * each module's repositories inject them; no module touches the DataSource itself.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, ModulesContainer],
      // The app's migrations and those of modules that own tables (RunsModule.forProducer), together.
      useFactory: (config: AppConfig, modules: ModulesContainer) =>
        buildDataSourceOptions(config, [...MIGRATIONS, ...moduleMigrations(modules)]),
      // Migrations finish before any repository is handed out, so no module ever sees an old schema.
      dataSourceFactory: async (options) => {
        const ds = await new DataSource(options!).initialize();
        await runMigrations(ds);
        return ds;
      },
    }),
  ],
  providers: [Db, Dialect],
  exports: [Db, Dialect],
})
export class DatabaseModule {}
