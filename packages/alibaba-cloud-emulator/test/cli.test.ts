import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { parseEmulatorArgs } from '../src/cli.ts';
import { clientsFor } from './support.ts';
import type { RunningEmulator } from '../src/index.ts';

const ROOT = resolve(__dirname, '../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLI = join(ROOT, 'packages/alibaba-cloud-emulator/src/cli.ts');

jest.setTimeout(30_000);

describe('emulator command line', () => {
  it('parses flags over environment variables', () => {
    const { options } = parseEmulatorArgs(
      ['--port', '0', '--access-key', 'AK1:S1', '--access-key=AK2:S2', '--https'],
      { RRSA_EMULATOR_PORT: '9999', RRSA_EMULATOR_SEED: 's', RRSA_EMULATOR_ACCESS_KEYS: 'X:Y' },
    );
    expect(options).toMatchObject({
      port: 0,
      https: true,
      seed: 's',
      rootKey: { accessKeyId: 'AK1', accessKeySecret: 'S1' },
      accessKeys: [{ accessKeyId: 'AK2', accessKeySecret: 'S2' }],
    });
    expect(() => parseEmulatorArgs(['--bogus'])).toThrow(/unknown flag --bogus/);
  });

  it('prints its usage with --help', async () => {
    const { stdout } = await promisify(execFile)(NODE, [CLI, '--help']);
    expect(stdout).toMatch(/^Usage: emulator \[flags\]/);
    expect(stdout).toContain('--issuer-override');
  });

  it('starts, answers a real SDK call and stops on SIGTERM', async () => {
    const proc = spawn(NODE, [CLI, '--port', '0', '--https', '--seed', 'cli'], { cwd: ROOT });
    try {
      const line = await new Promise<string>((resolveLine, reject) => {
        createInterface({ input: proc.stdout }).once('line', resolveLine);
        proc.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const started = JSON.parse(line) as {
        endpoint: string;
        caFile: string;
        accessKeyId: string;
        accessKeySecret: string;
      };
      expect(started.caFile).toMatch(/ca\.pem$/);
      const emulator = {
        endpoint: started.endpoint,
        rootKey: { accessKeyId: started.accessKeyId, accessKeySecret: started.accessKeySecret },
      } as RunningEmulator;
      const me = await clientsFor(emulator).sts.getCallerIdentity();
      expect(me.body?.identityType).toBe('Account');
      const exited = new Promise<number | null>((resolveExit) => proc.once('exit', resolveExit));
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
