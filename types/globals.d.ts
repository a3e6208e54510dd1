// WebCrypto's CryptoKey (what jose imports keys as) is a global at run time on Node 22;
// @types/node only exposes it under node:crypto's webcrypto namespace.
type CryptoKey = import('node:crypto').webcrypto.CryptoKey;
