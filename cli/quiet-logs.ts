// Imported first by main.ts, before any lib module creates its logger: the shared lib logs
// through Powertools, which writes JSON lines to stdout. In a CLI that would corrupt piped
// output, and every failure already reaches the user as one line on stderr.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Metrics are EMF lines on stdout too, and mean nothing outside Lambda.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
