import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/** An embedded DynamoDB-compatible server (dynalite) on loopback; in memory unless `path` is given. */
export async function startDynalite(options: { path?: string; port?: number } = {}): Promise<{ endpoint: string; close(): Promise<void> }> {
  // Owner-only, as every folder of the local data (lib/local/private-data-dir.ts).
  if (options.path) mkdirSync(options.path, { recursive: true, mode: 0o700 });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
