// linkerd's admin `security` block (spec/linkerd.md §8): every path falls in a category, UI,
// control or diagnostics, each of which can be turned off; a blacklist of path patterns wins
// over everything, and a whitelist keeps paths of a category turned off. A blocked path is
// answered 404, as linkerd does. dtabd adds `controlLoopbackOnly` (on unless turned off): the
// control endpoints answer callers on loopback only.

import { type AdminSecurityConfig, DEFAULT_ADMIN_SECURITY } from '../config/index.ts';

/** The `security` block as the config reads it. */
export type AdminSecurity = AdminSecurityConfig;

export const DEFAULT_SECURITY: AdminSecurity = DEFAULT_ADMIN_SECURITY;

const UI = [/^\/$/, /^\/admin\/ws$/, /^\/routers\.json$/, /^\/explain\.json$/, /^\/files\/.*$/, /^\/admin\/files\/.*$/, /^\/config\.json$/, /^\/metrics\.json$/, /^\/admin\/metrics\.json$/, /^\/admin\/metrics$/, /^\/delegator$/, /^\/delegator\.json$/, /^\/logging$/, /^\/help$/];
const CONTROL = [/^\/admin\/shutdown$/, /^\/logging\.json$/];

export type Category = 'ui' | 'control' | 'diagnostics';

export function categoryOf(path: string): Category {
  if (CONTROL.some((r) => r.test(path))) return 'control';
  if (UI.some((r) => r.test(path))) return 'ui';
  return 'diagnostics';
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** How a request for `path` from `remote` is answered: allowed, or refused with a status. */
export function admit(security: AdminSecurity, path: string, remote: string | undefined): { ok: true } | { ok: false; status: number; reason: string } {
  if (security.pathBlacklist.some((r) => r.test(path))) return { ok: false, status: 404, reason: `not found: ${path}` };
  const category = categoryOf(path);
  const enabled = category === 'ui' ? security.uiEnabled : category === 'control' ? security.controlEnabled : security.diagnosticsEnabled;
  if (!enabled && !security.pathWhitelist.some((r) => r.test(path))) return { ok: false, status: 404, reason: `not found: ${path}` };
  if (category === 'control' && security.controlLoopbackOnly && !isLoopback(remote)) {
    return { ok: false, status: 403, reason: `${path} answers callers on loopback only (admin.security.controlLoopbackOnly)` };
  }
  return { ok: true };
}
