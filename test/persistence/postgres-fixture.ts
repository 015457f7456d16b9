// Kept for test files that still import the PostgreSQL fixtures from here; new tests import
// test/support/servers.ts, where they live.
export { POSTGRES_URL, postgresUnavailable, TestSchemas } from '../support/servers.ts';
