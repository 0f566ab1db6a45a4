// linkerd's admin `security` block (spec/linkerd.md §8): every path falls in a category, UI,
// control or diagnostics, each of which can be turned off; a blacklist of path patterns wins
// over everything, and a whitelist keeps paths of a category turned off. A blocked path is
// answered 404, as linkerd does. dtabd adds `controlLoopbackOnly` (on unless turned off): the
// control endpoints answer callers on loopback only. Whatever the block says, a page of another
// site reaches neither the control endpoints nor the dashboard's feed.

import type { IncomingHttpHeaders } from 'node:http';
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

/**
 * Whether a browser sent this request for a page of another site (`Origin` not this host, or
 * `Sec-Fetch-Site: cross-site`). Callers that are not browsers send neither header.
 */
function crossSite(headers: IncomingHttpHeaders): boolean {
  if (headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== headers.host;
  } catch {
    return true;
  }
}

/**
 * How a request for `path` from `remote` is answered: allowed, or refused with a status. With
 * the request's `headers`, a page of another site is refused the control endpoints (it must
 * not shut the daemon down or change its log level) and the feed, `/admin/ws`: browsers open
 * WebSockets across sites and let the page read what comes back, which they do not for the
 * other UI endpoints.
 */
export function admit(
  security: AdminSecurity,
  path: string,
  remote: string | undefined,
  headers?: IncomingHttpHeaders,
): { ok: true } | { ok: false; status: number; reason: string } {
  if (security.pathBlacklist.some((r) => r.test(path))) return { ok: false, status: 404, reason: `not found: ${path}` };
  const category = categoryOf(path);
  const enabled = category === 'ui' ? security.uiEnabled : category === 'control' ? security.controlEnabled : security.diagnosticsEnabled;
  if (!enabled && !security.pathWhitelist.some((r) => r.test(path))) return { ok: false, status: 404, reason: `not found: ${path}` };
  if (category === 'control' && security.controlLoopbackOnly && !isLoopback(remote)) {
    return { ok: false, status: 403, reason: `${path} answers callers on loopback only (admin.security.controlLoopbackOnly)` };
  }
  if ((category === 'control' || path === '/admin/ws') && headers !== undefined && crossSite(headers)) {
    return { ok: false, status: 403, reason: `refused: a page of another site asked for ${path}` };
  }
  return { ok: true };
}
