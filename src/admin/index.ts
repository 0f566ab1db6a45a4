// Public surface of admin/: the admin server.
export { AdminServer } from './admin-server.ts';
export type { AdminHooks } from './admin-server.ts';
export { admit, categoryOf, DEFAULT_SECURITY } from './security.ts';
export type { AdminSecurity, Category } from './security.ts';
