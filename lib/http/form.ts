import { InvalidRequest } from '../errors.ts';
import { jsonShapeIssue } from '../json-shape.ts';
import { hasProtoMember } from '../proto-members.ts';
import type { HttpEvent } from './handler.ts';

const MAX_BODY_BYTES = 64 * 1024;

/** The raw request body as text (API Gateway may base64-encode it), bounded in size. */
export function bodyText(event: HttpEvent): string {
  const raw = event.body ?? '';
  if (raw.length > MAX_BODY_BYTES * 2) throw new InvalidRequest('request body is too large');
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new InvalidRequest('request body is too large');
  return text;
}

/**
 * Parses an `application/x-www-form-urlencoded` body (RFC 6749 §3.2, as the token endpoint
 * requires). A parameter sent twice is refused, since the two copies could be read differently
 * by different layers; unknown parameters are ignored as RFC 6749 §3.2 says.
 */
export function parseForm(event: HttpEvent): Record<string, string> {
  const type = (event.headers?.['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('the token endpoint takes application/x-www-form-urlencoded bodies');
  }
  const params = new URLSearchParams(bodyText(event));
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of params) {
    if (Object.hasOwn(out, name)) throw new InvalidRequest(`parameter ${name.slice(0, 64)} is repeated`);
    out[name] = value;
  }
  return out;
}

/** Parses a JSON object body; anything else is a 400. */
export function parseJsonBody(event: HttpEvent): Record<string, unknown> {
  const type = (event.headers?.['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new InvalidRequest('send a JSON body with Content-Type: application/json');
  const text = bodyText(event);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidRequest('request body is not valid JSON');
  }
  const issue = jsonShapeIssue(text);
  if (issue)
    throw new InvalidRequest(
      issue.kind === 'duplicate'
        ? 'request body must not repeat a member name within an object'
        : `request body must not be nested deeper than ${issue.maxDepth} levels`,
    );
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidRequest('request body must be a JSON object');
  if (hasProtoMember(value)) throw new InvalidRequest('request body must not contain __proto__ members');
  return value as Record<string, unknown>;
}
