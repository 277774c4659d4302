import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FarmConfig } from '@switchyard/protocol';
import { stringify } from 'yaml';

export const DEMO_REPO = 'demo';
export const DEMO_POOL = 'linux';

/** One repository and three builders: a build on main and release branches, then two test suites after it. */
export function createDemoConfig(repositoryUrl: string): FarmConfig {
  const branches = ['main', 'release/*'];
  const builder = { repo: DEMO_REPO, pool: DEMO_POOL, branches };
  return {
    repos: [{ name: DEMO_REPO, url: repositoryUrl }],
    builders: [
      {
        ...builder,
        name: 'build',
        steps: [{ name: 'compile', run: './build.sh', env: { MODE: 'opt' }, timeout: 600 }],
      },
      { ...builder, name: 'test-unit', after: 'build', steps: [{ name: 'unit', run: './test.sh unit', timeout: 600 }] },
      {
        ...builder,
        name: 'test-integration',
        after: 'build',
        steps: [{ name: 'integration', run: './test.sh integration', timeout: 600 }],
      },
    ],
  };
}

/** Writes `<dir>/switchyard.yml`. */
export async function writeDemoConfig(
  dir: string,
  repositoryUrl: string,
): Promise<{ configPath: string; config: FarmConfig }> {
  const configPath = join(dir, 'switchyard.yml');
  const config = createDemoConfig(repositoryUrl);
  const header = `# The farm \`switchyard demo\` runs. To serve it yourself:\n#   switchyard server --config ${configPath} --data ${join(dir, 'data')}\n`;
  await writeFile(configPath, `${header}${stringify(config)}`);
  return { configPath, config };
}
