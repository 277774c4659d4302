import {
  EVENT_TYPES,
  type EventFilter,
  type EventFilterConfig,
  type EventsSettings,
  type FarmConfig,
  JOB_STATES,
  routingPatternProblem,
} from '@switchyard/protocol';
import type { ConfigProblem } from './config-error.ts';

export interface ConfiguredWebhook {
  name: string;
  url: string;
  secret: string;
  filter: EventFilterConfig;
}

export interface RetryPolicy {
  firstMs: number;
  maxMs: number;
  giveUpMs: number;
}

/** The `events:` section, compiled. */
export interface EventsConfig {
  webhooks: ConfiguredWebhook[];
  retry: RetryPolicy;
  amqp: { url: string; exchange: string } | null;
}

export const DEFAULT_RETRY: RetryPolicy = { firstMs: 5_000, maxMs: 3_600_000, giveUpMs: 24 * 3_600_000 };

/** A filter as written in the config or an API body, as the stream filters take it. */
export function toEventFilter(config: EventFilterConfig): EventFilter {
  const { routing_key, ...rest } = config;
  return routing_key === undefined ? rest : { ...rest, routingKey: routing_key };
}

export function compileEvents(raw: EventsSettings | undefined, env: NodeJS.ProcessEnv): EventsConfig {
  const retry = raw?.webhook_retry ?? {};
  return {
    webhooks: (raw?.webhooks ?? []).map((hook) => ({
      name: hook.name,
      url: hook.url,
      secret: hook.secret ?? (env[hook.secret_env as string] as string),
      filter: hook.filter ?? {},
    })),
    retry: {
      firstMs: retry.first_seconds === undefined ? DEFAULT_RETRY.firstMs : retry.first_seconds * 1000,
      maxMs: retry.max_seconds === undefined ? DEFAULT_RETRY.maxMs : retry.max_seconds * 1000,
      giveUpMs: retry.give_up_hours === undefined ? DEFAULT_RETRY.giveUpMs : retry.give_up_hours * 3_600_000,
    },
    amqp: raw?.amqp ?? null,
  };
}

/** What the schema can't check in `events:`: names, secrets, and the filters' vocabulary. */
export function eventsProblems(config: FarmConfig, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  (config.events?.webhooks ?? []).forEach((hook, i) => {
    const path = `events.webhooks[${i}]`;
    if (names.has(hook.name)) problems.push({ path: `${path}.name`, message: `duplicate webhook "${hook.name}"` });
    names.add(hook.name);
    if ((hook.secret === undefined) === (hook.secret_env === undefined)) {
      problems.push({ path, message: 'expected exactly one of `secret` or `secret_env`' });
    } else if (hook.secret_env !== undefined && (env[hook.secret_env] ?? '').length < 16) {
      problems.push({
        path: `${path}.secret_env`,
        message: `environment variable ${hook.secret_env} must hold a secret of at least 16 characters`,
      });
    }
    problems.push(...filterProblems(hook.filter, `${path}.filter`));
  });
  return problems;
}

function filterProblems(filter: EventFilterConfig | undefined, path: string): ConfigProblem[] {
  if (!filter) return [];
  const problems: ConfigProblem[] = [];
  filter.types?.forEach((type, i) => {
    if (!(EVENT_TYPES as readonly string[]).includes(type)) {
      problems.push({
        path: `${path}.types[${i}]`,
        message: `expected an event type (${EVENT_TYPES.join(', ')}), got "${type}"`,
      });
    }
  });
  if (filter.result !== undefined && !(JOB_STATES as readonly string[]).includes(filter.result)) {
    problems.push({
      path: `${path}.result`,
      message: `expected one of ${JOB_STATES.join(', ')}, got "${filter.result}"`,
    });
  }
  const pattern = filter.routing_key === undefined ? null : routingPatternProblem(filter.routing_key);
  if (pattern !== null) problems.push({ path: `${path}.routing_key`, message: pattern });
  return problems;
}
