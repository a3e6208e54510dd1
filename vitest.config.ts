import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start servers on random loopback ports; files run in parallel processes.
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Metrics (EMF lines on stdout) are off in tests unless a test turns them on to inspect them.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', AWS_REGION: 'us-east-1' },
  },
});
