/**
 * Request-context condition keys every relationship kind can use (issue 13), as AWS has
 * `aws:CurrentTime`, `aws:EpochTime` and `aws:SourceIp` ("AWS global condition context keys"):
 * - `fedbroker:CurrentTime`: the broker's clock, ISO 8601 UTC with seconds (`Date*` operators);
 * - `fedbroker:EpochTime`: the same instant in epoch seconds;
 * - `fedbroker:SourceIp`: API Gateway's `requestContext.http.sourceIp`, never a header the client sets;
 * - `fedbroker:RequestedAudience`: the `audience` of an exchange that asks for an ID token.
 * They are evaluated when a relationship admits a workload (the exchange, a certificate session),
 * not on every later use of the access token. A key that does not apply is missing (fail closed).
 */

export const CONTEXT_PREFIX = 'fedbroker:';
export const CONTEXT_KEYS = ['fedbroker:CurrentTime', 'fedbroker:EpochTime', 'fedbroker:SourceIp', 'fedbroker:RequestedAudience'] as const;

export interface RequestContext {
  /** Epoch milliseconds. */
  now: number;
  sourceIp?: string | undefined;
  requestedAudience?: string | undefined;
}

/** The context keys and their values for one request (what `:explain` shows). */
export function contextValues(ctx: RequestContext): Record<string, string | number> {
  return {
    'fedbroker:CurrentTime': new Date(ctx.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'fedbroker:EpochTime': Math.floor(ctx.now / 1000),
    ...(ctx.sourceIp ? { 'fedbroker:SourceIp': ctx.sourceIp } : {}),
    ...(ctx.requestedAudience ? { 'fedbroker:RequestedAudience': ctx.requestedAudience } : {}),
  };
}

/**
 * The claims conditions see: the presented ones minus any top-level member whose name starts with
 * `fedbroker:` in any case (a token or certificate can never supply a context key), plus the
 * context. `Object.fromEntries` defines members, so a `__proto__` claim stays a plain member.
 */
export function withRequestContext(claims: Record<string, unknown>, ctx: RequestContext): Record<string, unknown> {
  const own = Object.entries(claims).filter(([k]) => !k.toLowerCase().startsWith(CONTEXT_PREFIX));
  return Object.fromEntries([...own, ...Object.entries(contextValues(ctx))]);
}
