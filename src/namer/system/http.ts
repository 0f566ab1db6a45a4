// linkerd's `io.buoyant.http.*` system namers: rewrites that drop or rearrange the method and
// host elements an HTTP identifier puts in a name. Nothing in them is HTTP-specific.

import type { Path } from '../../dtab/index.ts';
import type { SystemNamer } from '../global.ts';
import { javaSplit, rewritingNamer, textPath } from './rewriting.ts';

/** Coarse on purpose, as in linkerd: DNS names, IPv4 and IPv6 text, with or without a port. */
const HOST = /^[A-Za-z0-9.:_-]+$/;
const METHOD = /^[A-Z]+$/;

/** `host` without a `:port`; a `:` at the very start is kept (linkerd tests `indexOf > 0`). */
function dropPort(host: string): string {
  const i = host.indexOf(':');
  return i > 0 ? host.slice(0, i) : host;
}

/** What `host` (its port dropped) has before `.<domain>`, or `undefined`. Never empty. */
function subdomain(domain: string, host: string): string | undefined {
  const sfx = `.${domain}`;
  const h = dropPort(host);
  if (!h.endsWith(sfx) || h.length === sfx.length) return undefined;
  return h.slice(0, h.length - sfx.length);
}

/**
 * The labels of a host name, last first: `a.b.c` gives c, b, a. A `:port` stays on its label
 * (`a.b:80` gives `b:80`, a). Split as Java splits, so `a.b.` is b, a, while `..a` has empty
 * labels and gives no path (see textPath).
 */
function reversedLabels(host: string): string[] {
  return javaSplit(host, '.').reverse();
}

/** `/<METHOD>/rest` → `/rest`. */
export const anyMethod: SystemNamer = rewritingNamer((rest) =>
  METHOD.test(rest.elemText(0)) ? rest.drop(1) : undefined,
);

/** `/<pfx>/<METHOD>/rest` → `/<pfx>/rest`. */
export const anyMethodPfx: SystemNamer = rewritingNamer((rest) =>
  rest.size >= 2 && METHOD.test(rest.elemText(1)) ? textPath([rest.elemText(0)], rest.drop(2)) : undefined,
);

/** `/<host>/rest` → `/rest`. */
export const anyHost: SystemNamer = rewritingNamer((rest) => (HOST.test(rest.elemText(0)) ? rest.drop(1) : undefined));

/** `/<pfx>/<host>/rest` → `/<pfx>/rest`. */
export const anyHostPfx: SystemNamer = rewritingNamer((rest) =>
  rest.size >= 2 && HOST.test(rest.elemText(1)) ? textPath([rest.elemText(0)], rest.drop(2)) : undefined,
);

/** `/<domain>/<sub>.<domain>[:port]/rest` → `/<sub>/rest`. */
export const subdomainOf: SystemNamer = rewritingNamer((rest): Path | undefined => {
  if (rest.size < 2) return undefined;
  const domain = rest.elemText(0);
  const host = rest.elemText(1);
  if (!HOST.test(domain) || !HOST.test(host)) return undefined;
  const sub = subdomain(domain, host);
  return sub === undefined ? undefined : textPath([sub], rest.drop(2));
});

/** `/<domain>/<pfx>/<sub>.<domain>[:port]/rest` → `/<pfx>/<sub>/rest`. */
export const subdomainOfPfx: SystemNamer = rewritingNamer((rest): Path | undefined => {
  if (rest.size < 3) return undefined;
  const domain = rest.elemText(0);
  const host = rest.elemText(2);
  if (!HOST.test(domain) || !HOST.test(host)) return undefined;
  const sub = subdomain(domain, host);
  return sub === undefined ? undefined : textPath([rest.elemText(1), sub], rest.drop(3));
});

/** `/<a.b.c>/rest` → `/c/b/a/rest`. */
export const domainToPath: SystemNamer = rewritingNamer((rest) => {
  const host = rest.elemText(0);
  return HOST.test(host) ? textPath(reversedLabels(host), rest.drop(1)) : undefined;
});

/** `/<pfx>/<a.b.c>/rest` → `/<pfx>/c/b/a/rest`. */
export const domainToPathPfx: SystemNamer = rewritingNamer((rest) => {
  if (rest.size < 2) return undefined;
  const host = rest.elemText(1);
  return HOST.test(host) ? textPath([rest.elemText(0), ...reversedLabels(host)], rest.drop(2)) : undefined;
});
