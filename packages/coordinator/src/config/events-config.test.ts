import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './load-config.ts';

const base = 'repos: [{ name: demo, url: /srv/git/demo.git }]\nbuilders: []\n';

describe('the events: section', () => {
  it('compiles webhooks, their retry policy and the broker target', () => {
    const farm = parseConfig(
      'farm.yml',
      `${base}events:
  webhooks:
    - { name: bot, url: "https://bot.example.org/hook", secret_env: BOT_SECRET, filter: { types: [push.completed], routing_key: "push.#" } }
  webhook_retry: { first_seconds: 1, give_up_hours: 2 }
  amqp: { url: "amqp://guest:guest@127.0.0.1:5672", exchange: switchyard }
`,
      { BOT_SECRET: 'sixteen-chars-long' },
    );
    expect(farm.events).toEqual({
      webhooks: [
        {
          name: 'bot',
          url: 'https://bot.example.org/hook',
          secret: 'sixteen-chars-long',
          filter: { types: ['push.completed'], routing_key: 'push.#' },
        },
      ],
      retry: { firstMs: 1000, maxMs: 3_600_000, giveUpMs: 7_200_000 },
      amqp: { url: 'amqp://guest:guest@127.0.0.1:5672', exchange: 'switchyard' },
    });
    expect(parseConfig('farm.yml', base).events).toMatchObject({ webhooks: [], amqp: null });
  });

  it('names the file, the path and what was expected for each problem', () => {
    const text = `${base}events:
  webhooks:
    - { name: a, url: "https://x.example.org", secret: "too short" }
    - { name: a, url: "https://y.example.org", secret_env: UNSET, filter: { types: [job.exploded], result: green, routing_key: "job..#" } }
    - { name: b, url: "https://z.example.org" }
`;
    let problems: Array<{ path: string; message: string }> = [];
    try {
      parseConfig('farm.yml', text, {});
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/^farm\.yml: invalid configuration/);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      { path: 'events.webhooks[0].secret', message: expect.stringMatching(/at least 16|expected/) },
    ]);
    const semantic = `${base}events:
  webhooks:
    - { name: a, url: "https://y.example.org", secret_env: UNSET, filter: { types: [job.exploded], result: green, routing_key: "job..#" } }
    - { name: a, url: "https://z.example.org" }
`;
    try {
      parseConfig('farm.yml', semantic, {});
      throw new Error('expected the config to be refused');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        {
          path: 'events.webhooks[0].secret_env',
          message: 'environment variable UNSET must hold a secret of at least 16 characters',
        },
        {
          path: 'events.webhooks[0].filter.types[0]',
          message: expect.stringMatching(/^expected an event type .*got "job.exploded"$/),
        },
        { path: 'events.webhooks[0].filter.result', message: expect.stringMatching(/got "green"$/) },
        { path: 'events.webhooks[0].filter.routing_key', message: 'routing-key pattern "job..#" has an empty word' },
        { path: 'events.webhooks[1].name', message: 'duplicate webhook "a"' },
        { path: 'events.webhooks[1]', message: 'expected exactly one of `secret` or `secret_env`' },
      ]);
    }
  });
});
