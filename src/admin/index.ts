// Public surface of admin/: the admin server.
export { AdminServer } from './admin-server.ts';
export type { AdminHooks } from './admin-server.ts';
