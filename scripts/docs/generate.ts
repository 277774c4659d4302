/**
 * `npm run docs`: writes docs/reference/ from the code. `npm run docs -- --check` writes nothing,
 * and exits 1 naming each page that differs from what is committed (.ci/run runs it).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderCliPage } from './cli-page.ts';
import { renderConfigurationPage } from './configuration-page.ts';
import { renderEventsPage } from './events-page.ts';
import { formatMarkdown } from './format-markdown.ts';
import { renderHttpApiPage } from './http-api-page.ts';
import { type PageEntry, renderIndexPage } from './index-page.ts';
import { renderMetricsPage } from './metrics-page.ts';
import {
  cliCommands,
  configFiles,
  coordinatorSources,
  errorStatus,
  eventDocuments,
  metricsSections,
} from './sources.ts';
import { stalePages } from './stale-pages.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = 'docs/reference';

async function renderPages(): Promise<Map<string, string>> {
  const coordinator = await coordinatorSources();
  const entries: Array<PageEntry & { text: string }> = [
    {
      file: 'configuration.md',
      title: 'Configuration',
      from: 'the TypeBox schemas of the farm and signer config files',
      text: renderConfigurationPage(
        configFiles(),
        'The worker and the proxy have no config file: their settings are the flags of [`switchyard worker`](cli.md#switchyard-worker) and [`switchyard proxy`](cli.md#switchyard-proxy).',
      ),
    },
    {
      file: 'cli.md',
      title: 'CLI',
      from: 'the commander program of `switchyard`',
      text: renderCliPage(cliCommands(), 'packages/cli/src/program.ts'),
    },
    {
      file: 'http-api.md',
      title: 'HTTP API',
      from: "the coordinator's OpenAPI document (`GET /api/openapi.json`)",
      text: renderHttpApiPage(coordinator.openapi, errorStatus, 'packages/coordinator/src/api/'),
    },
    {
      file: 'events.md',
      title: 'Events',
      from: 'the event schemas of packages/protocol',
      text: renderEventsPage(eventDocuments(), 'packages/protocol/src/events.ts'),
    },
    {
      file: 'metrics.md',
      title: 'Metrics',
      from: 'the Prometheus registries of the coordinator, the proxy and the signer',
      text: renderMetricsPage(metricsSections(coordinator.metrics)),
    },
  ];
  const pages = new Map(entries.map((entry) => [entry.file, entry.text]));
  pages.set('README.md', renderIndexPage(entries));
  return new Map([...pages].map(([file, text]) => [file, formatMarkdown(ROOT, `${OUT}/${file}`, text)]));
}

function committedPages(): Map<string, string> {
  const dir = join(ROOT, OUT);
  if (!existsSync(dir)) return new Map();
  return new Map(
    readdirSync(dir)
      .filter((file) => file.endsWith('.md'))
      .map((file) => [file, readFileSync(join(dir, file), 'utf8')]),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  const pages = await renderPages();
  if (values.check) {
    const stale = stalePages(pages, committedPages());
    if (stale.length > 0) {
      console.error(`${OUT} is out of date; run \`npm run docs\` and commit the result:`);
      for (const { file, why } of stale) console.error(`  ${OUT}/${file}: ${why}`);
      process.exit(1);
    }
    console.log(`${OUT}: ${pages.size} pages up to date`);
    return;
  }
  mkdirSync(join(ROOT, OUT), { recursive: true });
  for (const [file, text] of pages) writeFileSync(join(ROOT, OUT, file), text);
  const extra = stalePages(pages, committedPages()).filter((page) => page.why === 'not generated');
  for (const { file } of extra)
    console.warn(`${OUT}/${file} is not generated; remove it or add it to scripts/docs/generate.ts`);
  console.log(`${OUT}: wrote ${pages.size} pages`);
}

await main();
