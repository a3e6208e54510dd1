import type * as Pkijs from 'pkijs';

/**
 * pkijs is loaded on first use only. A bundle that never reaches this module (token, jwks,
 * discovery, …) leaves it out (docs/x509.md, "Packaging"); the three that do (x509 and the anchor
 * documents) carry it inline, as esbuild bundles without code splitting, and evaluate it on the
 * first certificate they handle (their other requests still parse its ~370 kB at cold start:
 * `npm run bench`, cold start rows).
 */
let loaded: Promise<typeof Pkijs> | undefined;

export function loadPkijs(): Promise<typeof Pkijs> {
  loaded ??= import('pkijs').then((pkijs) => {
    // Node 22's WebCrypto: pkijs verifies certificate and CRL signatures with it (RFC 5280 §6.1.3 (a)(1)).
    pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto }));
    return pkijs;
  });
  return loaded;
}

export type { Pkijs };
