import { afterEach, describe, expect, it } from 'vitest';
import { callBroker, exchangeToken, normalizeEndpoint } from '../../../cli/http.ts';
import { listen } from '../../support/http-server.ts';

type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };

let server: Awaited<ReturnType<typeof listen>> | undefined;
afterEach(async () => server?.close());

/** A broker stand-in answering the scripted answers in turn (the last one from then on); counts requests. */
async function scripted(...answers: Answer[]) {
  let count = 0;
  server = await listen((_req, res) => {
    const a = answers[Math.min(count, answers.length - 1)] as Answer;
    count += 1;
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(JSON.stringify(a.body));
  });
  return { url: server.url, requests: () => count };
}

const busy: Answer = { status: 503, body: { error: 'temporarily_unavailable' }, headers: { 'retry-after': '0' } };

describe('callBroker retries only where a retry can help', () => {
  it('retries a busy broker and returns its next answer', async () => {
    const broker = await scripted(busy, { status: 200, body: { ok: true } });
    expect((await callBroker(broker.url, '/x', { method: 'GET' })).body).toEqual({ ok: true });
    expect(broker.requests()).toBe(2);
  });

  it('reports the refusal that follows a retry, not the busy answer', async () => {
    const broker = await scripted(busy, { status: 400, body: { error: 'invalid_grant', error_description: 'no' } });
    await expect(callBroker(broker.url, '/x', { method: 'POST' })).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(broker.requests()).toBe(2);
  });

  it.each([
    ['an expired token', 401, 'invalid_token'],
    ['a refused request', 400, 'invalid_request'],
    ['a missing scope', 403, 'insufficient_scope'],
  ])('never retries %s', async (_, status, error) => {
    const broker = await scripted({ status, body: { error } });
    await expect(callBroker(broker.url, '/x', { method: 'POST' })).rejects.toMatchObject({ error });
    expect(broker.requests()).toBe(1);
  });

  it('gives up after three attempts', async () => {
    const broker = await scripted({ status: 429, body: { error: 'slow_down' }, headers: { 'retry-after': '0' } });
    await expect(callBroker(broker.url, '/x', { method: 'GET' })).rejects.toMatchObject({ error: 'slow_down' });
    expect(broker.requests()).toBe(3);
  });

  it('reports a Retry-After too long to wait for instead of waiting', async () => {
    const broker = await scripted({ ...busy, headers: { 'retry-after': '120' } });
    await expect(callBroker(broker.url, '/x', { method: 'GET' })).rejects.toMatchObject({
      error: 'temporarily_unavailable',
      message: expect.stringContaining('retry after 120s'),
    });
    expect(broker.requests()).toBe(1);
  });
});

describe('exchangeToken', () => {
  it('names the cap and the settings that raise it when --duration is over it', async () => {
    const broker = await scripted({
      status: 400,
      body: { error: 'invalid_request', error_description: 'duration_seconds exceeds the maximum of 3600 allowed here' },
    });
    await expect(exchangeToken(broker.url, { duration_seconds: '7200' })).rejects.toMatchObject({
      error: 'invalid_request',
      message: expect.stringMatching(/--duration 1h or less.*max_duration_seconds.*FEDBROKER_ACCESS_TOKEN_MAX_TTL/),
    });
    await expect(
      exchangeToken(broker.url, { requested_token_type: 'urn:ietf:params:oauth:token-type:id_token', duration_seconds: '7200' }),
    ).rejects.toMatchObject({ message: expect.stringContaining('FEDBROKER_ID_TOKEN_MAX_TTL') });
  });
});

describe('normalizeEndpoint', () => {
  it('accepts plain http on loopback only, unless --insecure', () => {
    expect(normalizeEndpoint('http://localhost:8787/')).toBe('http://localhost:8787');
    expect(() => normalizeEndpoint('http://broker.internal:8080')).toThrow(/add --insecure/);
    expect(normalizeEndpoint('http://broker.internal:8080', { insecure: true })).toBe('http://broker.internal:8080');
    expect(() => normalizeEndpoint('ftp://broker.internal', { insecure: true })).toThrow(/must use https/);
  });
});
