import {
  AuthConfig,
  BuilderConfig,
  EventsSettings,
  RepoConfig,
  SchedulingSettings,
  ServerSettings,
} from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY } from './events-config.ts';
import { parseConfig } from './load-config.ts';

/** The smallest farm: every optional setting left out, so each one takes its default. */
const BARE = `
repos: [{ name: app, url: /srv/app.git }]
builders:
  - { name: build, repo: app, pool: linux, steps: [{ name: make, run: make }] }
auth:
  tokens: [{ name: ci, sha256: ${'a'.repeat(64)}, scopes: [push] }]
`;

const defaultOf = (schema: object): unknown => (schema as { default?: unknown }).default;

// The config schemas carry the defaults the reference (docs/reference/configuration.md) shows;
// the coordinator applies its own. These must be the same numbers.
describe('the defaults the config schema documents', () => {
  const farm = parseConfig('bare.yml', BARE, {});
  const builder = farm.builders[0]!;

  it('are the server settings the coordinator applies', () => {
    const server = ServerSettings.properties;
    expect({
      leaseSeconds: defaultOf(server.lease_seconds),
      claimWaitSeconds: defaultOf(server.claim_wait_seconds),
      maxAttempts: defaultOf(server.max_attempts),
      stepTimeoutSeconds: defaultOf(server.step_timeout),
      maxLogBytes: defaultOf(server.max_log_bytes),
      artifactExpiryDays: defaultOf(server.artifact_expiry_days),
      maxArtifactBytes: defaultOf(server.max_artifact_bytes),
      bodyTimeoutSeconds: defaultOf(server.body_timeout_seconds),
      minBodyBytesPerSecond: defaultOf(server.min_body_bytes_per_second),
      maxConnectionsPerClient: defaultOf(server.max_connections_per_client),
    }).toEqual(farm.settings);
  });

  it("are a builder's, the scheduler's, auth's and the webhook retries'", () => {
    const builderSchema = BuilderConfig.properties;
    expect(defaultOf(builderSchema.checkout)).toBe(builder.checkout);
    expect(defaultOf(builderSchema.priority)).toBe(builder.priorityOffset);
    expect(defaultOf(builderSchema.coalesce)).toBe('never');
    expect(builder.coalesceLimit).toBeNull();
    const coalescing = parseConfig('coalesce.yml', BARE.replace('pool: linux,', 'pool: linux, coalesce: latest,'), {});
    expect(defaultOf(builderSchema.coalesce_limit)).toBe(coalescing.builders[0]?.coalesceLimit);
    expect(defaultOf(RepoConfig.properties.vcs)).toBe('git');
    expect(defaultOf(AuthConfig.properties.public_read)).toBe(farm.publicRead);
    expect(defaultOf(SchedulingSettings.properties.aging_minutes)).toBe(farm.scheduling.agingMs / 60_000);
    expect(defaultOf(SchedulingSettings.properties.fit_band)).toBe(farm.scheduling.fitBand);
    const retry = EventsSettings.properties.webhook_retry.properties;
    expect({
      firstMs: (defaultOf(retry.first_seconds) as number) * 1000,
      maxMs: (defaultOf(retry.max_seconds) as number) * 1000,
      giveUpMs: (defaultOf(retry.give_up_hours) as number) * 3_600_000,
    }).toEqual(DEFAULT_RETRY);
  });
});
