import { createHash } from 'node:crypto';
import type { PublishedKey } from '../keys/keyring.ts';

/** A JWKS (RFC 7517 §5) with a strong ETag derived from its exact bytes. */
export function jwksDocument(keys: readonly PublishedKey[]): { body: string; etag: string } {
  const body = JSON.stringify({ keys });
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  return { body, etag };
}

/** RFC 9110 §13.1.2: true when `If-None-Match` lists this ETag (weak comparison) or is `*`. */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || strip(t) === strip(etag));
}
