import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsCredentials } from '../aws-credentials.ts';
import { isoSeconds } from '../aws-credentials.ts';

/** The path of the container-credentials endpoint (any path works for the SDKs; this one says what it is). */
export const CREDENTIALS_PATH = '/role-credentials';
/** IMDSv2 paths (EC2 user guide, "Use the Instance Metadata Service to access instance metadata", "Retrieve security credentials"). */
const IMDS_TOKEN_PATH = '/latest/api/token';
const IMDS_ROLE_PREFIX = '/latest/meta-data/iam/security-credentials/';
const IMDS_MAX_TTL = 21_600;

interface CredentialsSource {
  /** The credentials to serve now, or undefined while none valid are held. */
  current(): AwsCredentials | undefined;
}

interface ContainerServerOptions {
  source: CredentialsSource;
  port: number;
  /** Also (or instead) answer as IMDSv2 (PUT token, then GET), for tools that only read instance metadata. */
  imds: boolean;
  /** The role name IMDS lists under security-credentials/ (the role ARN's last segment). */
  roleName: string;
}

interface ContainerServer {
  url: string;
  /** The value clients must send in `Authorization` (AWS_CONTAINER_AUTHORIZATION_TOKEN). */
  token: string;
  close(): Promise<void>;
}

const digest = (text: string) => createHash('sha256').update(text).digest();
/** Compares digests, so neither the length nor the content of the token leaks through timing. */
const sameSecret = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

/**
 * The container credential provider's response (AWS SDKs and Tools reference guide, "Container
 * credential provider"): AccessKeyId, SecretAccessKey, Token, Expiration. AccountId is optional
 * there and left out on purpose: the SDKs work without it, and this process never handles (nor
 * risks logging) the account id beyond the role ARN it was given.
 */
function containerJson(c: AwsCredentials) {
  return { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: isoSeconds(c.expiration) };
}

/** The IMDS security-credentials document (EC2 user guide, "Retrieve security credentials from instance metadata"). */
function imdsJson(c: AwsCredentials, lastUpdated: Date) {
  return {
    Code: 'Success',
    LastUpdated: isoSeconds(lastUpdated),
    Type: 'AWS-HMAC',
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.sessionToken,
    Expiration: isoSeconds(c.expiration),
  };
}

/**
 * Serves role credentials on 127.0.0.1 only. The container endpoint needs the per-start random
 * token in `Authorization` (missing → 401, wrong → 403), so another local user or a browser page
 * cannot read it; the IMDSv2 mode, like EC2's, only needs a session token any local process can
 * PUT for — it stops SSRF through GET-only proxies (PUT required, X-Forwarded-For refused), not
 * local processes. Nothing here logs a request, a token or a key.
 */
export async function startContainerServer(o: ContainerServerOptions): Promise<ContainerServer> {
  const token = randomBytes(32).toString('base64url');
  const imdsSessions = new Map<string, number>();
  let lastUpdated = new Date();
  let served: AwsCredentials | undefined;

  const credentials = (res: ServerResponse): AwsCredentials | undefined => {
    const c = o.source.current();
    if (!c || c.expiration.getTime() <= Date.now()) {
      send(res, 503, { Code: 'CredentialsUnavailable', Message: 'no valid credentials yet; see the fedbroker aws serve log' });
      return undefined;
    }
    if (c !== served) {
      served = c;
      lastUpdated = new Date();
    }
    return c;
  };

  const container = (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers.authorization;
    if (given === undefined || given === '') return send(res, 401, { Code: 'Unauthorized', Message: 'Authorization header required' });
    if (!sameSecret(given, token)) return send(res, 403, { Code: 'AccessDenied', Message: 'wrong authorization token' });
    const c = credentials(res);
    if (c) send(res, 200, containerJson(c));
  };

  const imds = (req: IncomingMessage, res: ServerResponse, path: string) => {
    // EC2 refuses token requests that went through a proxy: they carry X-Forwarded-For.
    if (req.headers['x-forwarded-for'] !== undefined) return send(res, 403, 'Forbidden', 'text/plain');
    if (path === IMDS_TOKEN_PATH) {
      if (req.method !== 'PUT') return send(res, 405, 'Method Not Allowed', 'text/plain');
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > IMDS_MAX_TTL) return send(res, 400, 'Bad Request', 'text/plain');
      const session = randomBytes(32).toString('base64url');
      const now = Date.now();
      for (const [k, exp] of imdsSessions) if (exp <= now) imdsSessions.delete(k);
      imdsSessions.set(session, now + ttl * 1000);
      res.setHeader('X-Aws-Ec2-Metadata-Token-Ttl-Seconds', String(ttl));
      return send(res, 200, session, 'text/plain');
    }
    if (req.method !== 'GET') return send(res, 405, 'Method Not Allowed', 'text/plain');
    const session = req.headers['x-aws-ec2-metadata-token'];
    const expires = typeof session === 'string' ? imdsSessions.get(session) : undefined;
    if (expires === undefined || expires <= Date.now()) return send(res, 401, 'Unauthorized', 'text/plain');
    if (path === IMDS_ROLE_PREFIX) return send(res, 200, o.roleName, 'text/plain');
    if (path === `${IMDS_ROLE_PREFIX}${o.roleName}`) {
      const c = credentials(res);
      if (c) send(res, 200, imdsJson(c, lastUpdated));
      return;
    }
    send(res, 404, 'Not Found', 'text/plain');
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === CREDENTIALS_PATH) {
      if (req.method !== 'GET') return send(res, 405, { Code: 'MethodNotAllowed', Message: 'GET only' });
      return container(req, res);
    }
    if (o.imds && path.startsWith('/latest/')) return imds(req, res, path);
    send(res, 404, { Code: 'NotFound', Message: 'no such path' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only, by construction: there is no option to bind elsewhere.
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
