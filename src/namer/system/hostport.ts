// `/$/io.buoyant.hostportPfx` and `/$/io.buoyant.porthostPfx`: split a `host:port` element
// into two (linkerd's io.buoyant.hostportPfx and porthostPfx).

import type { Path } from '../../dtab/index.ts';
import type { SystemNamer } from '../global.ts';
import { javaSplit, rewritingNamer, textPath } from './rewriting.ts';

/**
 * A DNS label (RFC 1035/1123), as Kubernetes writes it; linkerd uses it for the port part, so a
 * named port such as `http` is accepted. Its last character is optional, so a trailing `-` is
 * allowed, as in linkerd.
 */
const DNS_LABEL = /^[a-z0-9][-a-z0-9]*[a-z0-9]?$/;
const DNS_LABEL_MAX = 63;

/**
 * The host and port of a `host:port` element: exactly two parts around `:` (so no IPv6 host),
 * the port a DNS label of at most 63 characters. Java's split drops trailing empty parts, so
 * `web:80:` is still web and 80.
 */
function hostColonPort(s: string): { host: string; port: string } | undefined {
  const parts = javaSplit(s, ':');
  if (parts.length !== 2) return undefined;
  const port = parts[1]!;
  if (port.length > DNS_LABEL_MAX || !DNS_LABEL.test(port)) return undefined;
  return { host: parts[0]!, port };
}

function hostPortRewrite(hostFirst: boolean) {
  return (rest: Path): Path | undefined => {
    if (rest.size < 2) return undefined;
    const hp = hostColonPort(rest.elemText(1));
    if (hp === undefined) return undefined;
    // An empty host (`:80`) gives no path: see textPath.
    const [a, b] = hostFirst ? [hp.host, hp.port] : [hp.port, hp.host];
    return textPath([rest.elemText(0), a, b], rest.drop(2));
  };
}

/** `/<pfx>/<host>:<port>/rest` → `/<pfx>/<host>/<port>/rest`. */
export const hostportPfx: SystemNamer = rewritingNamer(hostPortRewrite(true));

/** `/<pfx>/<host>:<port>/rest` → `/<pfx>/<port>/<host>/rest`. */
export const porthostPfx: SystemNamer = rewritingNamer(hostPortRewrite(false));
