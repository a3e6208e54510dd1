import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricsBuffer } from '../../lib/metrics.ts';

// The EMF line lib/metrics.ts writes (CloudWatch "Embedded metric format specification"); the
// handlers' use of it is in test/integration/metrics.test.ts.
function lines(run: () => void): Record<string, unknown>[] {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return out.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('MetricsBuffer', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('writes one line: service on every dimension set, a metric recorded twice as an array, then starts over', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const m = new MetricsBuffer({ namespace: 'fedbroker', serviceName: 'fedbroker' });
    const [line, ...rest] = lines(() => {
      m.addDimensions({ outcome: 'success', reason: 'none' });
      m.addMetric('Exchanges', 'Count', 1);
      m.addMetric('KmsSignLatency', 'Milliseconds', 12.5);
      m.addMetric('KmsSignLatency', 'Milliseconds', 3);
      m.publishStoredMetrics();
      m.publishStoredMetrics();
    });
    expect(rest).toEqual([]);
    expect(line).toEqual({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: 'fedbroker',
            Dimensions: [['service', 'outcome', 'reason']],
            Metrics: [
              { Name: 'Exchanges', Unit: 'Count' },
              { Name: 'KmsSignLatency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      service: 'fedbroker',
      outcome: 'success',
      reason: 'none',
      Exchanges: 1,
      KmsSignLatency: [12.5, 3],
    });
    expect(m.hasStoredMetrics()).toBe(false);
  });

  it('without dimensions, uses the service dimension alone', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const m = new MetricsBuffer({ namespace: 'fedbroker', serviceName: 'fedbroker' });
    const [line] = lines(() => {
      m.addMetric('AuditWriteFailures', 'Count', 1);
      m.publishStoredMetrics();
    });
    expect((line!._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
  });

  it.each([
    ['POWERTOOLS_METRICS_DISABLED', 'true'],
    ['POWERTOOLS_METRICS_DISABLED', '1'],
    ['POWERTOOLS_DEV', 'true'],
  ])('writes nothing with %s=%s, and still starts over', (name, value) => {
    vi.stubEnv(name, value);
    const m = new MetricsBuffer({ namespace: 'fedbroker', serviceName: 'fedbroker' });
    expect(
      lines(() => {
        m.addMetric('Exchanges', 'Count', 1);
        m.publishStoredMetrics();
      }),
    ).toEqual([]);
    expect(m.hasStoredMetrics()).toBe(false);
  });

  it('POWERTOOLS_METRICS_DISABLED=false wins over POWERTOOLS_DEV', () => {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const m = new MetricsBuffer({ namespace: 'fedbroker', serviceName: 'fedbroker' });
    expect(
      lines(() => {
        m.addMetric('Exchanges', 'Count', 1);
        m.publishStoredMetrics();
      }),
    ).toHaveLength(1);
  });
});
