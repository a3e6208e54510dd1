/**
 * The largest token (compact JWS text, UTF-16 code units) any part of fedbroker reads: subject
 * tokens, bearer tokens, tokens to explain or revoke. Anything longer is refused (or, where only
 * described, ignored) before it is decoded. Real tokens are a few kB; trust/limits.ts bounds the
 * cost of evaluating claims by it.
 */
export const MAX_TOKEN_BYTES = 16 * 1024;
