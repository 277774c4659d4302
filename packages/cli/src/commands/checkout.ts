import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { parseList, wholeNumber } from '../option-parsers.ts';

interface CheckoutOptions {
  store: string;
  repo: string;
  rev: string;
  dest: string;
  vcs: 'git' | 'hg';
  sparse?: string[];
  depth?: number;
  json?: boolean;
  quiet?: boolean;
}

export function addCheckoutCommand(program: Command): void {
  program
    .command('checkout')
    .summary('a pristine tree of one revision, from a shared repository store')
    .description(
      'Make DEST a pristine tree of exactly REV: tracked files as at REV, nothing untracked or ignored left over, ' +
        'as a fresh clone would be. The store keeps one copy per repository (keyed by its root commit), fetches ' +
        'only what it lacks, and is safe to share between processes; a damaged or abandoned store is rebuilt. ' +
        'This is the code workers run before each job.',
    )
    .requiredOption('--store <dir>', 'the store root, shared by everything on the machine')
    .requiredOption('--repo <url>', 'the repository, as `git clone` or `hg clone` takes it')
    .requiredOption('--rev <revision>', 'a full commit id (git: 40 hex digits; hg: 12 to 40)')
    .requiredOption('--dest <dir>', 'the tree to make or bring up to date in place')
    .addOption(new Option('--vcs <vcs>', 'version control system').choices(['git', 'hg']).default('git'))
    .option('--sparse <dirs>', 'git: check out only these directories (comma-separated)', parseList)
    .option('--depth <commits>', 'git: fetch only this much history (such a store is kept per URL)', wholeNumber(1))
    .option('--json', 'print the report as JSON')
    .option('-q, --quiet', 'print only the result')
    .addHelpText(
      'after',
      `
Progress goes to stderr; the result (phase timings) to stdout. Exits 1 when the checkout fails.

Example:
  $ switchyard checkout --store /var/cache/switchyard/repos --repo https://git.example.org/app.git \\
      --rev 4f0c3e1a9b6d2c8e7f5a1b3c9d0e2f4a6b8c0d1e --dest ~/work/app`,
    )
    .action(async (options: CheckoutOptions) => {
      const { checkout } = await import('@switchyard/worker/checkout');
      const dest = resolve(options.dest);
      const report = await checkout({
        storeDir: resolve(options.store),
        url: options.repo,
        revision: options.rev,
        dest,
        vcs: options.vcs,
        sparse: options.sparse,
        depth: options.depth,
        log: options.quiet || options.json ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      if (options.json) {
        console.log(JSON.stringify({ dest, revision: options.rev, ...report }, null, 2));
        return;
      }
      const { lockMs, fetchMs, checkoutMs, cleanMs, totalMs } = report.timings;
      const store = report.createdStore ? 'new store' : report.fetched ? 'store updated' : 'store warm';
      const recovered = report.recovered.length > 0 ? `, recovered: ${report.recovered.join(', ')}` : '';
      console.log(
        `${dest} at ${options.rev} in ${totalMs} ms (${store}${recovered}): ` +
          `lock ${lockMs} ms, fetch ${fetchMs} ms, checkout ${checkoutMs} ms, clean ${cleanMs} ms`,
      );
    });
}
