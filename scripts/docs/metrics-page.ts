import { anchor, byText, code, generatedNotice, page, table } from './markdown.ts';

export interface MetricDoc {
  name: string;
  /** counter, gauge, histogram or summary. */
  type: string;
  help: string;
  labels: string[];
}

/** The metrics one process serves on its `/metrics`. */
export interface MetricsSection {
  title: string;
  /** Where its registry is built, relative to the repository. */
  source: string;
  metrics: MetricDoc[];
}

/** The metrics reference: per process, every metric sorted by name, with its type, labels and help. */
export function renderMetricsPage(sections: readonly MetricsSection[]): string {
  return page([
    generatedNotice(sections.map((section) => section.source).join(', ')),
    '# Metrics reference',
    sections.map((section) => `- [${section.title}](#${anchor(section.title)})`).join('\n'),
    ...sections.map(renderSection),
  ]);
}

function renderSection(section: MetricsSection): string {
  const metrics = [...section.metrics].sort((a, b) => byText(a.name, b.name));
  return page([
    `## ${section.title}`,
    `Registry: ${code(section.source)}.`,
    table(
      ['Metric', 'Type', 'Labels', 'Help'],
      metrics.map((metric) => [code(metric.name), metric.type, metric.labels.map(code).join(', '), metric.help]),
    ),
  ]).trimEnd();
}
