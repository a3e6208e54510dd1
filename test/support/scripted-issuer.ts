// An upstream OIDC issuer whose discovery document and JWKS can misbehave on command: hang,
// fail, answer garbage or 10 MB, drip one byte at a time, redirect, or serve a hostile document.
// It signs tokens with its real key, including raw JWS that jose would refuse to build, so the
// security and fault suites can shape every byte the broker sees.
import type { ServerResponse } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { listen } from './http-server.ts';
import { signJws, signSegments } from './jws.ts';

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/jwks';

/** What one path answers. `normal` serves the real document. */
export type Behaviour =
  | { kind: 'normal' }
  /** Reads the request and never answers. */
  | { kind: 'hang' }
  | { kind: 'status'; status: number }
  /** 200, `application/json`, a body that is not JSON. */
  | { kind: 'garbage' }
  /** 200, `application/json`, `bytes` of body streamed without a Content-Length. */
  | { kind: 'huge'; bytes: number }
  /** 200, `application/json`, one byte every `intervalMs`, never finishing. */
  | { kind: 'drip'; intervalMs: number }
  /** 200, the real document, written in `pieces` (default 8) spread so it ends after `totalMs`. */
  | { kind: 'slow'; totalMs: number; pieces?: number }
  | { kind: 'redirect'; location: string; status?: number }
  /** 200 with this JSON document. */
  | { kind: 'json'; body: unknown };

export interface ScriptedIssuer {
  issuer: string;
  /** `host:port` of the issuer, to check responses never name it. */
  host: string;
  alg: string;
  /** Requests received, per path (counted before the behaviour runs). */
  hits: Record<string, number>;
  /** The current public key as published (with `kid`, `alg`, `use`). */
  readonly jwk: JWK;
  readonly kid: string;
  /** The current public key as SPKI PEM. */
  publicKeyPem(): Promise<string>;
  /** Sets what `path` answers from now on. */
  on(path: string, behaviour: Behaviour): void;
  /** Every path behaves normally again. */
  heal(): void;
  /** Signs a JWT with jose; defaults `iss`, `aud: fedbroker`, `iat` now, `exp` in 5 min, header `kid`. */
  token(claims?: JWTPayload, options?: { header?: Record<string, unknown>; now?: number }): Promise<string>;
  /** Default claims (as `token` would use), for building raw payloads. */
  claims(extra?: Record<string, unknown>, now?: number): Record<string, unknown>;
  /** Signs exactly this header and payload text with the current private key under `alg`. */
  signRaw(header: Record<string, unknown> | string, payload: Record<string, unknown> | string, alg?: string): string;
  /** Signs two already-encoded segments exactly as given (for malformed base64url or UTF-8). */
  signSegments(headerSegment: string, payloadSegment: string, alg?: string): string;
  /** Replaces the signing key; the old kid disappears from the JWKS. */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

export async function startScriptedIssuer(options: { alg?: 'RS256' | 'ES256' | 'PS256'; audience?: string } = {}): Promise<ScriptedIssuer> {
  const alg = options.alg ?? 'RS256';
  const audience = options.audience ?? 'fedbroker';
  let generation = 0;
  let current: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string; jwk: JWK };
  const newKey = async () => {
    const pair = await generateKeyPair(alg, { extractable: true });
    const kid = `s${++generation}`;
    current = {
      privateKey: pair.privateKey,
      publicKey: pair.publicKey,
      kid,
      jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' },
    };
  };
  await newKey();

  const hits: Record<string, number> = {};
  const behaviours = new Map<string, Behaviour>();
  const timers = new Set<NodeJS.Timeout>();
  let issuer = '';

  const sendJson = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  /** The real document at `path`, or undefined when the issuer serves none there. */
  const documentAt = (path: string): unknown =>
    path === DISCOVERY_PATH
      ? { issuer, jwks_uri: `${issuer}${JWKS_PATH}`, response_types_supported: ['id_token'], id_token_signing_alg_values_supported: [alg] }
      : path === JWKS_PATH
        ? { keys: [current.jwk] }
        : undefined;

  const server = await listen((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits[path] = (hits[path] ?? 0) + 1;
    req.resume();
    const behaviour = behaviours.get(path) ?? { kind: 'normal' };
    switch (behaviour.kind) {
      case 'hang':
        return;
      case 'status':
        return sendJson(res, behaviour.status, { error: 'scripted failure' });
      case 'garbage':
        return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('<html>not json</html>{{{');
      case 'redirect':
        return void res.writeHead(behaviour.status ?? 302, { Location: behaviour.location }).end();
      case 'json':
        return sendJson(res, 200, behaviour.body);
      case 'huge': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < behaviour.bytes && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        res.write('{"keys":[');
        pump();
        return;
      }
      case 'drip': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{');
        const timer = setInterval(() => {
          if (res.destroyed) {
            clearInterval(timer);
            timers.delete(timer);
            return;
          }
          res.write(' ');
        }, behaviour.intervalMs);
        timers.add(timer);
        res.once('close', () => {
          clearInterval(timer);
          timers.delete(timer);
        });
        return;
      }
      case 'slow': {
        const document = documentAt(path);
        if (document === undefined) return sendJson(res, 404, { error: 'not found' });
        const body = Buffer.from(JSON.stringify(document));
        const pieces = Math.max(2, Math.min(behaviour.pieces ?? 8, body.length));
        const size = Math.ceil(body.length / pieces);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        // The first piece at once, the last one (and the end) at `totalMs`.
        let sent = 0;
        const step = () => {
          if (res.destroyed) return;
          res.write(body.subarray(sent * size, (sent + 1) * size));
          sent += 1;
          if (sent >= pieces) return void res.end();
          const timer = setTimeout(
            () => {
              timers.delete(timer);
              step();
            },
            behaviour.totalMs / (pieces - 1),
          );
          timers.add(timer);
        };
        step();
        return;
      }
      case 'normal': {
        const document = documentAt(path);
        return document === undefined ? sendJson(res, 404, { error: 'not found' }) : sendJson(res, 200, document);
      }
    }
  });
  issuer = server.url;

  const claims = (extra: Record<string, unknown> = {}, nowMs = Date.now()): Record<string, unknown> => {
    const now = Math.floor(nowMs / 1000);
    return { iss: issuer, aud: audience, iat: now, exp: now + 300, ...extra };
  };

  return {
    issuer,
    host: new URL(issuer).host,
    alg,
    hits,
    get jwk() {
      return current.jwk;
    },
    get kid() {
      return current.kid;
    },
    publicKeyPem: () => exportSPKI(current.publicKey),
    on: (path, behaviour) => void behaviours.set(path, behaviour),
    heal: () => behaviours.clear(),
    claims,
    async token(extra = {}, opts = {}) {
      const body = claims(extra as Record<string, unknown>, opts.now);
      for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
      return new SignJWT(body).setProtectedHeader({ alg, kid: current.kid, typ: 'JWT', ...(opts.header ?? {}) }).sign(current.privateKey);
    },
    signRaw: (header, payload, signAlg = alg) => signJws(signAlg, current.privateKey, header, payload),
    signSegments: (h, p, signAlg = alg) => signSegments(signAlg, current.privateKey, h, p),
    rotate: newKey,
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      await server.close();
    },
  };
}
