import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type CommitDescription, describeCommit, git } from '../git.ts';
import type { DemoRevision } from './demo-revisions.ts';
import { BUILD_SCRIPT, README, TEST_SCRIPT } from './demo-scripts.ts';

const FOUNDER = { name: 'Switchyard Demo', email: 'demo@switchyard.invalid' };

/** The demo's git repository: a bare repository the farm clones, and a work tree that commits to it. */
export class DemoRepository {
  private constructor(
    /** What the farm config names as the repository's url. */
    readonly url: string,
    private readonly workTree: string,
  ) {}

  /** Creates `<dir>/demo.git` and `<dir>/work` with the scripts, and pushes a first commit on main. */
  static async create(dir: string): Promise<{ repository: DemoRepository; first: CommitDescription }> {
    const repository = new DemoRepository(join(dir, 'demo.git'), join(dir, 'work'));
    await git(['init', '--quiet', '--bare', '--initial-branch=main', repository.url], { cwd: dir });
    await git(['init', '--quiet', '--initial-branch=main', repository.workTree], { cwd: dir });
    await repository.git(['remote', 'add', 'origin', repository.url]);
    await repository.write('build.sh', BUILD_SCRIPT, 0o755);
    await repository.write('test.sh', TEST_SCRIPT, 0o755);
    await repository.write('README.md', README);
    await repository.write('VERSION', '1.0.0\n');
    await repository.write('CHANGES.md', '# Changes\n');
    const first = await repository.commitAndPush('main', 'Start the demo project', FOUNDER);
    return { repository, first };
  }

  /** Makes the revision's change on its branch (branching from main if new) and pushes it. */
  async commit(revision: DemoRevision): Promise<CommitDescription> {
    const branchExists = (await this.git(['branch', '--list', revision.branch])) !== '';
    await this.git(
      branchExists ? ['checkout', '--quiet', revision.branch] : ['checkout', '--quiet', '-b', revision.branch, 'main'],
    );
    const path = join(this.workTree, revision.file);
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, `${revision.line}\n`);
    return this.commitAndPush(revision.branch, revision.subject, revision.author);
  }

  private async commitAndPush(
    branch: string,
    subject: string,
    author: { name: string; email: string },
  ): Promise<CommitDescription> {
    await this.git(['add', '--all']);
    const identity = {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: FOUNDER.name,
      GIT_COMMITTER_EMAIL: FOUNDER.email,
    };
    // The user's own git settings must not get in the way: no signing prompt for a throwaway repository.
    await this.git(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', subject], identity);
    await this.git(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
    return describeCommit(this.workTree, 'HEAD');
  }

  private async write(file: string, content: string, mode = 0o644): Promise<void> {
    const path = join(this.workTree, file);
    await writeFile(path, content);
    await chmod(path, mode);
  }

  private git(args: readonly string[], env: Record<string, string> = {}): Promise<string> {
    return git(args, { cwd: this.workTree, env: { ...process.env, ...env } });
  }
}
