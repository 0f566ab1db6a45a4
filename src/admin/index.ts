// Public surface of admin/: the admin server and what it reads of the daemon.
export { AdminServer } from './admin-server.ts';
export type { AdminHooks, Answer, RouterInfo } from './hooks.ts';
export { admit, categoryOf, DEFAULT_SECURITY } from './security.ts';
export type { AdminSecurity, Category } from './security.ts';
