export { PolicyExportModule } from './policy-export.module';
