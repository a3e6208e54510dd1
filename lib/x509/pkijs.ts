import type * as Pkijs from 'pkijs';

/**
 * pkijs is loaded on first use only, so the functions that never see a certificate (token, jwks,
 * discovery, …) do not pay for it at cold start; esbuild keeps a dynamic `import()` as its own chunk
 * or, in a bundle that never reaches this module, leaves it out (docs/x509.md, "Packaging").
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
